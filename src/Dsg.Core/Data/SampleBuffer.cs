using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Dsg.Core.Data;

/// <summary>
/// The values of a sample set: in memory while they are small, otherwise in a scratch file that is read back a batch at
/// a time, so a calibration's resident memory does not grow with its sample count (1,024 samples of 3×224×224 are
/// 616 MB). The file is private to the process: it is unlinked as soon as it is open where the system allows it
/// (so not even a killed process leaves it behind) and deleted on close elsewhere.
/// </summary>
public sealed class SampleBuffer : IDisposable
{
    /// <summary>Sets larger than this (64 MiB) are kept in a scratch file.</summary>
    public const long DefaultSpillBytes = 64L << 20;

    private static readonly AsyncLocal<long?> s_spillOverride = new();
    private readonly float[]? _values;
    private SafeFileHandle? _file;

    private SampleBuffer(long length, float[]? values, SafeFileHandle? file)
    {
        Length = length;
        _values = values;
        _file = file;
    }

    /// <summary>The number of values.</summary>
    public long Length { get; }

    /// <summary>Whether the values are held in memory (<see cref="InMemoryValues"/>) rather than in a scratch file.</summary>
    public bool InMemory => _values is not null;

    /// <summary>The values, when held in memory; null for a file-backed buffer.</summary>
    internal float[]? InMemoryValues => _values;

    /// <summary>Wraps values already in memory (no copy).</summary>
    public static SampleBuffer Of(float[] values) => new((values ?? throw new ArgumentNullException(nameof(values))).LongLength, values, null);

    /// <summary>
    /// Buffers created on this logical flow until the result is disposed spill above <paramref name="bytes"/> instead
    /// of <see cref="DefaultSpillBytes"/> (tests use it to run the file-backed path on small models).
    /// </summary>
    internal static IDisposable SpillAbove(long bytes)
    {
        var previous = s_spillOverride.Value;
        s_spillOverride.Value = bytes;
        return new Restore(() => s_spillOverride.Value = previous);
    }

    /// <summary>
    /// A zeroed buffer of <paramref name="length"/> values: in memory up to <paramref name="spillBytes"/> bytes
    /// (default <see cref="DefaultSpillBytes"/>), else a scratch file in the system's temporary folder (TMPDIR).
    /// </summary>
    /// <exception cref="DsgException">DSG0806 when the scratch file cannot be created.</exception>
    public static SampleBuffer Create(long length, long? spillBytes = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        spillBytes ??= s_spillOverride.Value ?? DefaultSpillBytes;
        long bytes = checked(length * sizeof(float));
        if (bytes <= spillBytes && length <= Array.MaxLength)
        {
            return new SampleBuffer(length, new float[length], null);
        }

        string path = Path.Combine(Path.GetTempPath(), $"dsg-samples.{Environment.ProcessId}.{Guid.NewGuid():N}.f32");
        try
        {
            var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.DeleteOnClose);
            if (!OperatingSystem.IsWindows())
            {
                // The open handle keeps the data; the name goes now, so nothing is left behind even by kill -9.
                File.Delete(path);
            }

            return new SampleBuffer(length, null, file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unwritable(path, bytes, e);
        }
    }

    /// <summary>Stores <paramref name="values"/> from value <paramref name="offset"/> on.</summary>
    /// <exception cref="DsgException">DSG0806 when the scratch file cannot be written (a full disk).</exception>
    public void Write(long offset, ReadOnlySpan<float> values)
    {
        CheckRange(offset, values.Length);
        if (_values is not null)
        {
            values.CopyTo(_values.AsSpan(checked((int)offset)));
            return;
        }

        try
        {
            RandomAccess.Write(Handle, MemoryMarshal.AsBytes(values), offset * sizeof(float));
        }
        catch (IOException e)
        {
            throw Unwritable("(scratch file)", Length * sizeof(float), e);
        }
    }

    /// <summary>Copies values [<paramref name="offset"/>, offset + destination.Length) into <paramref name="destination"/>.</summary>
    public void Read(long offset, Span<float> destination)
    {
        CheckRange(offset, destination.Length);
        if (_values is not null)
        {
            _values.AsSpan(checked((int)offset), destination.Length).CopyTo(destination);
            return;
        }

        // Never written parts of a file read as zeros, as a new array's do.
        var bytes = MemoryMarshal.AsBytes(destination);
        long position = offset * sizeof(float);
        while (bytes.Length > 0)
        {
            int read = RandomAccess.Read(Handle, bytes, position);
            if (read == 0)
            {
                bytes.Clear();
                break;
            }

            bytes = bytes[read..];
            position += read;
        }
    }

    /// <summary>Closes (and so deletes) the scratch file; an in-memory buffer has nothing to release.</summary>
    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
    }

    private SafeFileHandle Handle => _file ?? throw new ObjectDisposedException(nameof(SampleBuffer));

    private void CheckRange(long offset, int count)
    {
        if (offset < 0 || count < 0 || offset > Length - count)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Values {offset}..{offset + count} are outside 0..{Length}.");
        }
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    private static DsgException Unwritable(string path, long bytes, Exception inner) =>
        new(ErrorCodes.ScratchUnwritable,
            $"Cannot keep {bytes / (1 << 20)} MiB of samples in a scratch file in '{Path.GetTempPath()}': {inner.Message}",
            "Free space there, or point TMPDIR at a folder on a disk with room for the samples.", inner) { FilePath = path };
}
