using System.Buffers.Binary;
using System.IO.Compression;

namespace Dsg.Core.Data;

/// <summary>
/// Reads IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed: unsigned-byte images
/// (N×H×W, magic 0x00000803) and labels (N, magic 0x00000801).
/// </summary>
public static class IdxFile
{
    /// <summary>Whether the file starts like an IDX file (after gzip decompression when it is gzipped).</summary>
    public static bool LooksLikeIdx(string path)
    {
        try
        {
            var header = ReadAll(path, 4);
            return header.Length >= 4 && header[0] == 0 && header[1] == 0 && header[2] == 0x08 && header[3] is >= 1 and <= 4;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Reads an unsigned-byte IDX array: its dims and bytes.</summary>
    /// <exception cref="DsgException">DSG0701 when the file is not such an IDX file or is truncated.</exception>
    public static (int[] Dims, byte[] Data) ReadUBytes(string path)
    {
        byte[] bytes;
        try
        {
            bytes = ReadAll(path, int.MaxValue);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw Bad(path, $"it cannot be read ({e.Message})");
        }

        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0)
        {
            throw Bad(path, "it does not start with an IDX magic number");
        }

        if (bytes[2] != 0x08)
        {
            throw Bad(path, $"its element type is 0x{bytes[2]:x2}; only unsigned bytes (0x08) are supported");
        }

        int rank = bytes[3];
        if (rank < 1 || bytes.Length < 4 + 4 * rank)
        {
            throw Bad(path, "its header is truncated");
        }

        var dims = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            count *= dims[d];
        }

        long start = 4 + 4 * rank;
        if (dims.Any(d => d < 0) || bytes.Length - start < count)
        {
            throw Bad(path, $"dims ({string.Join(", ", dims)}) need {count} bytes of data and the file holds {bytes.Length - start}");
        }

        return (dims, bytes.AsSpan((int)start, (int)count).ToArray());
    }

    /// <summary>Reads an IDX labels file (rank 1) as class indices.</summary>
    /// <exception cref="DsgException">DSG0703 when the file is not a labels file.</exception>
    public static long[] ReadLabels(string path)
    {
        int[] dims;
        byte[] data;
        try
        {
            (dims, data) = ReadUBytes(path);
        }
        catch (DsgException e)
        {
            throw new DsgException(ErrorCodes.LabelsUnreadable, e.Message, "Pass an IDX labels file such as t10k-labels-idx1-ubyte(.gz), or a .npy of int64.", e) { FilePath = path };
        }

        if (dims.Length != 1)
        {
            throw new DsgException(ErrorCodes.LabelsUnreadable,
                $"'{path}' holds an IDX array of shape ({string.Join(", ", dims)}); a labels file has one dimension.",
                "Pass the labels file (…-labels-idx1-ubyte), not the images file.") { FilePath = path };
        }

        return data.Select(b => (long)b).ToArray();
    }

    private static byte[] ReadAll(string path, int limit)
    {
        using var file = File.OpenRead(path);
        var magic = new byte[2];
        int read = file.Read(magic);
        file.Seek(0, SeekOrigin.Begin);
        using Stream stream = read == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var memory = new MemoryStream();
        if (limit == int.MaxValue)
        {
            stream.CopyTo(memory);
            return memory.ToArray();
        }

        var buffer = new byte[limit];
        int total = 0, n;
        while (total < limit && (n = stream.Read(buffer, total, limit - total)) > 0)
        {
            total += n;
        }

        return buffer[..total];
    }

    private static DsgException Bad(string path, string why) =>
        new(ErrorCodes.CalibrationDataUnreadable, $"'{path}' is not a readable IDX file: {why}.",
            "Pass an IDX images file such as train-images-idx3-ubyte(.gz), a .npy array, or a folder of images.") { FilePath = path };
}
