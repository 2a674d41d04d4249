using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Dsg.Core.Data;

/// <summary>
/// Reads and writes NumPy <c>.npy</c> files (format 1.0/2.0, C order, little-endian float32 or int64),
/// so Python users can load Dsg's samples with <c>numpy.load</c> and hand Dsg their own.
/// </summary>
public static partial class NpyFile
{
    private static readonly byte[] s_magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Writes a float32 array of the given shape atomically.</summary>
    public static void WriteFloat32(string path, ReadOnlySpan<float> data, IReadOnlyList<long> shape) =>
        Write(path, "<f4", MemoryMarshal.AsBytes(data), shape, data.Length);

    /// <summary>Writes an int64 array of the given shape atomically.</summary>
    public static void WriteInt64(string path, ReadOnlySpan<long> data, IReadOnlyList<long> shape) =>
        Write(path, "<i8", MemoryMarshal.AsBytes(data), shape, data.Length);

    /// <summary>Reads a float32 array (float64 is converted); returns the data and shape.</summary>
    /// <exception cref="DsgException">DSG0701 when the file is not a readable .npy of numbers.</exception>
    public static (float[] Data, long[] Shape) ReadFloat32(string path)
    {
        var (descr, shape, body) = Read(path);
        return descr switch
        {
            "<f4" => (MemoryMarshal.Cast<byte, float>(body.Span).ToArray(), shape),
            "<f8" => (MemoryMarshal.Cast<byte, double>(body.Span).ToArray().Select(d => (float)d).ToArray(), shape),
            "|u1" => (body.ToArray().Select(b => (float)b).ToArray(), shape),
            _ => throw Bad(path, $"element type '{descr}' is not float32 or float64"),
        };
    }

    /// <summary>Reads an integer array (int64, int32 or uint8) as int64; returns the data and shape.</summary>
    public static (long[] Data, long[] Shape) ReadInt64(string path)
    {
        var (descr, shape, body) = Read(path);
        return descr switch
        {
            "<i8" => (MemoryMarshal.Cast<byte, long>(body.Span).ToArray(), shape),
            "<i4" => (MemoryMarshal.Cast<byte, int>(body.Span).ToArray().Select(v => (long)v).ToArray(), shape),
            "|u1" => (body.ToArray().Select(v => (long)v).ToArray(), shape),
            _ => throw Bad(path, $"element type '{descr}' is not an integer type"),
        };
    }

    private static void Write(string path, string descr, ReadOnlySpan<byte> body, IReadOnlyList<long> shape, long count)
    {
        long expected = shape.Aggregate(1L, (a, d) => a * d);
        if (expected != count)
        {
            throw new ArgumentException($"Shape ({string.Join(", ", shape)}) holds {expected} values, data has {count}.");
        }

        string shapeText = shape.Count == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shapeText}, }}";
        int total = s_magic.Length + 2 + 2 + header.Length + 1;
        int padding = (64 - (total % 64)) % 64;
        header = header + new string(' ', padding) + "\n";
        var headerBytes = Encoding.ASCII.GetBytes(header);
        var bytes = new byte[s_magic.Length + 4 + headerBytes.Length + body.Length];
        s_magic.CopyTo(bytes, 0);
        bytes[6] = 1;
        bytes[7] = 0;
        BitConverter.TryWriteBytes(bytes.AsSpan(8, 2), (ushort)headerBytes.Length);
        headerBytes.CopyTo(bytes, 10);
        body.CopyTo(bytes.AsSpan(10 + headerBytes.Length));
        AtomicFile.WriteAllBytes(path, bytes);
    }

    private static (string Descr, long[] Shape, ReadOnlyMemory<byte> Body) Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new DsgException(ErrorCodes.CalibrationDataUnreadable, $"'{path}' was not found.", "Check the path to the .npy file.") { FilePath = path };
        }

        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(s_magic))
        {
            throw Bad(path, "it does not start with the NumPy magic string");
        }

        int major = bytes[6];
        int headerLength = major == 1 ? BitConverter.ToUInt16(bytes, 8) : (int)BitConverter.ToUInt32(bytes, 8);
        int headerStart = major == 1 ? 10 : 12;
        if (headerStart + headerLength > bytes.Length)
        {
            throw Bad(path, "the header is truncated");
        }

        string header = Encoding.ASCII.GetString(bytes, headerStart, headerLength);
        var descr = DescrPattern().Match(header);
        var fortran = FortranPattern().Match(header);
        var shapeMatch = ShapePattern().Match(header);
        if (!descr.Success || !shapeMatch.Success)
        {
            throw Bad(path, "the header has no descr or shape");
        }

        if (fortran.Success && fortran.Groups[1].Value == "True")
        {
            throw Bad(path, "it is in Fortran order; save it with numpy.ascontiguousarray first");
        }

        var shape = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        int bodyStart = headerStart + headerLength;
        long count = shape.Aggregate(1L, (a, d) => a * d);
        int itemSize = descr.Groups[1].Value[^1] - '0';
        if (bytes.Length - bodyStart < count * itemSize)
        {
            throw Bad(path, $"it holds {bytes.Length - bodyStart} data bytes, and shape ({string.Join(", ", shape)}) needs {count * itemSize}");
        }

        return (descr.Groups[1].Value, shape, bytes.AsMemory(bodyStart, (int)(count * itemSize)));
    }

    private static DsgException Bad(string path, string why) =>
        new(ErrorCodes.CalibrationDataUnreadable, $"'{path}' is not a readable .npy array: {why}.",
            "Save the array with numpy.save(path, array.astype(numpy.float32)) in C order.") { FilePath = path };

    [GeneratedRegex(@"'descr'\s*:\s*'([<>|=][a-z]\d)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
