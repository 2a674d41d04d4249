namespace Dsg.Core.Onnx;

/// <summary>Where an external-data tensor's bytes lie: a regular file inside the model's folder, checked against its real size.</summary>
/// <param name="Path">The file's resolved path.</param>
/// <param name="Offset">The first byte.</param>
/// <param name="Length">The number of bytes (offset + length never passes the file's size).</param>
/// <param name="File">What the file system said about the file when it was checked.</param>
public sealed record ExternalDataRange(string Path, long Offset, long Length, FileNode File);
