using System.Runtime.InteropServices;
using Dsg.Core.Onnx.Proto;
using Google.Protobuf;

namespace Dsg.Core.Onnx;

/// <summary>Reads the values of ONNX <see cref="TensorProto"/>s (inline, raw or external) and builds new ones.</summary>
public static class OnnxTensor
{
    /// <summary>The tensor's shape.</summary>
    public static long[] Shape(TensorProto tensor) => tensor.Dims.ToArray();

    /// <summary>The number of elements.</summary>
    /// <exception cref="DsgException"><see cref="ErrorCodes.MalformedModel"/> for a negative dimension,
    /// <see cref="ErrorCodes.TensorTooLarge"/> when the product overflows 64 bits.</exception>
    public static long ElementCount(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        long count = 1;
        foreach (var d in tensor.Dims)
        {
            if (d < 0)
            {
                throw new DsgException(ErrorCodes.MalformedModel,
                    $"Tensor '{tensor.Name}' has a negative dimension ({string.Join(" x ", tensor.Dims)}).",
                    "The model file is corrupt or was written by a faulty exporter; export it again.");
            }

            if (d != 0 && count > long.MaxValue / d)
            {
                throw TooLarge(tensor.Name, $"its dimensions {string.Join(" x ", tensor.Dims)} multiply past 2^63");
            }

            count *= d;
        }

        return count;
    }

    /// <summary>Bytes per element of a fixed-size type, as a fraction for the 4-bit types (numerator, denominator); null for strings and unknown types.</summary>
    public static (int Numerator, int Denominator)? ElementSize(TensorProto.Types.DataType type) => (int)type switch
    {
        2 or 3 or 9 or >= 17 and <= 20 => (1, 1),
        4 or 5 or 10 or 16 => (2, 1),
        1 or 6 or 12 => (4, 1),
        7 or 11 or 13 or 14 => (8, 1),
        15 => (16, 1),
        21 or 22 or 23 => (1, 2),
        _ => null,
    };

    /// <summary>The bytes the tensor's values take in raw or external form; null for strings and unknown types.</summary>
    /// <exception cref="DsgException">As <see cref="ElementCount"/>.</exception>
    public static long? ByteCount(TensorProto tensor)
    {
        long count = ElementCount(tensor);
        if (ElementSize(DataType(tensor)) is not { } size)
        {
            return null;
        }

        if (size.Denominator > 1)
        {
            return count / size.Denominator + (count % size.Denominator == 0 ? 0 : 1);
        }

        if (count > long.MaxValue / size.Numerator)
        {
            throw TooLarge(tensor.Name, $"{count} elements of {size.Numerator} bytes pass 2^63 bytes");
        }

        return count * size.Numerator;
    }

    /// <summary>Whether the data lives in an external file.</summary>
    public static bool IsExternal(TensorProto tensor) =>
        tensor.HasDataLocation && tensor.DataLocation == TensorProto.Types.DataLocation.External;

    /// <summary>The element type.</summary>
    public static TensorProto.Types.DataType DataType(TensorProto tensor) => (TensorProto.Types.DataType)tensor.DataType;

    /// <summary>
    /// The real path of an external-data tensor's file: the location with every symbolic link in every component
    /// resolved, which must lie inside the model's (resolved) folder. Absolute locations, <c>..</c>, file links and
    /// folder links that leave the folder are all refused the same way.
    /// </summary>
    /// <exception cref="DsgException"><see cref="ErrorCodes.ExternalDataOutsideModel"/>, <see cref="ErrorCodes.MalformedModel"/>, <see cref="ErrorCodes.ExternalDataMissing"/>.</exception>
    public static string ResolveExternalPath(TensorProto tensor, OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(model);
        var location = tensor.ExternalData.FirstOrDefault(e => e.Key == "location")?.Value;
        if (string.IsNullOrEmpty(location) || location.Contains('\0', StringComparison.Ordinal))
        {
            throw new DsgException(ErrorCodes.MalformedModel,
                $"Tensor '{tensor.Name}' in '{model.DisplayName}' is marked external but has no usable location.",
                "Re-save the model with onnx.save_model(..., save_as_external_data=True) or with the data inline.") { FilePath = model.DisplayName };
        }

        if (model.Directory is null)
        {
            throw new DsgException(ErrorCodes.ExternalDataMissing,
                $"Tensor '{tensor.Name}' keeps its data in '{location}', but the model was not loaded from a folder.",
                "Load the model from its file so its external data can be found beside it.");
        }

        string root, candidate;
        try
        {
            root = RealPath.Resolve(Path.GetFullPath(model.Directory));
            candidate = Path.IsPathRooted(location) ? location : RealPath.Resolve(Path.Combine(root, location));
        }
        catch (IOException e)
        {
            throw new DsgException(ErrorCodes.ExternalDataMissing,
                $"The external data location '{location}' of tensor '{tensor.Name}' cannot be resolved: {e.Message}",
                "Replace the symbolic links in the model's folder by the data files themselves.", e) { FilePath = model.DisplayName };
        }

        if (Path.IsPathRooted(location) || !RealPath.IsInside(candidate, root))
        {
            throw new DsgException(ErrorCodes.ExternalDataOutsideModel,
                $"Tensor '{tensor.Name}' in '{model.DisplayName}' points to external data at '{location}'" +
                (Path.IsPathRooted(location) ? "" : $", which resolves to '{candidate}'") + $", outside the model's folder '{root}'.",
                "Dsg only reads external data from the model's own folder. Move the data file next to the model and re-save the model with a relative location.")
            { FilePath = model.DisplayName };
        }

        return candidate;
    }

    /// <summary>
    /// Where an external tensor's bytes are: its resolved file (a regular file inside the model's folder), the offset
    /// and the length, checked against the file's real size without overflow. Nothing is opened.
    /// </summary>
    /// <exception cref="DsgException">DSG0104 outside the folder, DSG0105 missing or short, DSG0106 bad offset/length keys,
    /// DSG0107 not a regular file, DSG0108 more bytes than one tensor may hold.</exception>
    public static ExternalDataRange LocateExternal(TensorProto tensor, OnnxModel model)
    {
        var path = ResolveExternalPath(tensor, model);
        long offset = ExternalNumber(tensor, model, "offset") ?? 0;
        long? declared = ExternalNumber(tensor, model, "length");
        FileNode? node;
        try
        {
            node = FileNode.Of(path);
        }
        catch (IOException e)
        {
            throw new DsgException(ErrorCodes.ExternalDataMissing,
                $"External data file '{path}' for tensor '{tensor.Name}' cannot be examined: {e.Message}",
                "Check the file's permissions.", e) { FilePath = path };
        }

        if (node is not { } file)
        {
            throw new DsgException(ErrorCodes.ExternalDataMissing,
                $"External data file '{path}' for tensor '{tensor.Name}' does not exist.",
                "Copy the model's data file(s) together with the .onnx file.") { FilePath = path };
        }

        if (file.Kind != FileNodeKind.Regular)
        {
            throw new DsgException(ErrorCodes.ExternalDataNotAFile,
                $"The external data location of tensor '{tensor.Name}' is {(file.Kind == FileNodeKind.Directory ? "a folder" : "a FIFO, device or socket")} ('{path}'), not a regular file; it was not opened.",
                "Point the tensor's location at the data file written with the model (onnx.save_model(..., save_as_external_data=True)).") { FilePath = path };
        }

        long length = declared ?? (offset <= file.Size ? file.Size - offset : -1);
        if (offset > file.Size || length < 0 || length > file.Size - offset)
        {
            throw new DsgException(ErrorCodes.ExternalDataMissing,
                $"External data file '{path}' is {file.Size} bytes; tensor '{tensor.Name}' needs {(declared is { } d ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : "its")} bytes from offset {offset}.",
                "The data file is truncated or belongs to another model; copy it again.") { FilePath = path };
        }

        if (length > Array.MaxLength)
        {
            throw TooLarge(tensor.Name, $"its external data is {length} bytes, more than one array holds ({Array.MaxLength})");
        }

        return new ExternalDataRange(path, offset, length, file);
    }

    /// <summary>The little-endian bytes of a tensor stored as raw_data or externally; null when it uses typed fields.</summary>
    public static byte[]? ReadRawBytes(TensorProto tensor, OnnxModel? model)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!IsExternal(tensor))
        {
            return tensor.HasRawData ? tensor.RawData.ToByteArray() : null;
        }

        if (model is null)
        {
            throw new DsgException(ErrorCodes.ExternalDataMissing,
                $"Tensor '{tensor.Name}' keeps its data in an external file, and no model folder was given.",
                "Load the model from its file so its external data can be found beside it.");
        }

        var range = LocateExternal(tensor, model);
        try
        {
            using var handle = File.OpenHandle(range.Path, FileMode.Open, FileAccess.Read, FileShare.Read);
            // The file examined is the file opened: a link swapped in between is refused, not followed.
            var opened = FileNode.Of(handle, range.Path);
            if (opened.Kind != FileNodeKind.Regular || (range.File.HasIdentity && !opened.SameFileAs(range.File)) || opened.Size < range.Offset + range.Length)
            {
                throw new DsgException(ErrorCodes.ExternalDataOutsideModel,
                    $"External data file '{range.Path}' for tensor '{tensor.Name}' changed while it was being opened.",
                    "Make sure nothing rewrites the model's folder while Dsg reads it, and run again.") { FilePath = range.Path };
            }

            var buffer = new byte[range.Length];
            int read = 0;
            while (read < buffer.Length)
            {
                int n = RandomAccess.Read(handle, buffer.AsSpan(read), range.Offset + read);
                if (n == 0)
                {
                    throw new EndOfStreamException();
                }

                read += n;
            }

            return buffer;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DsgException(ErrorCodes.ExternalDataMissing,
                $"External data file '{range.Path}' for tensor '{tensor.Name}' cannot be read: {e.Message}",
                "Check the file's permissions, or copy the data file again.", e) { FilePath = range.Path };
        }
    }

    /// <summary>The values as float32, converting from any numeric type.</summary>
    public static float[] ToFloats(TensorProto tensor, OnnxModel? model = null)
    {
        var raw = ReadRawBytes(tensor, model);
        var type = DataType(tensor);
        if (raw is null)
        {
            return type switch
            {
                TensorProto.Types.DataType.Float => tensor.FloatData.ToArray(),
                TensorProto.Types.DataType.Double => tensor.DoubleData.Select(d => (float)d).ToArray(),
                TensorProto.Types.DataType.Int64 => tensor.Int64Data.Select(v => (float)v).ToArray(),
                TensorProto.Types.DataType.Uint32 or TensorProto.Types.DataType.Uint64 => tensor.Uint64Data.Select(v => (float)v).ToArray(),
                TensorProto.Types.DataType.Float16 => tensor.Int32Data.Select(v => (float)BitConverter.UInt16BitsToHalf((ushort)v)).ToArray(),
                TensorProto.Types.DataType.Bfloat16 => tensor.Int32Data.Select(v => BitConverter.Int32BitsToSingle(v << 16)).ToArray(),
                _ => tensor.Int32Data.Select(v => (float)v).ToArray(),
            };
        }

        return type switch
        {
            TensorProto.Types.DataType.Float => MemoryMarshal.Cast<byte, float>(raw).ToArray(),
            TensorProto.Types.DataType.Double => Convert(MemoryMarshal.Cast<byte, double>(raw), v => (float)v),
            TensorProto.Types.DataType.Int64 => Convert(MemoryMarshal.Cast<byte, long>(raw), v => (float)v),
            TensorProto.Types.DataType.Int32 => Convert(MemoryMarshal.Cast<byte, int>(raw), v => (float)v),
            TensorProto.Types.DataType.Int16 => Convert(MemoryMarshal.Cast<byte, short>(raw), v => (float)v),
            TensorProto.Types.DataType.Uint16 => Convert(MemoryMarshal.Cast<byte, ushort>(raw), v => (float)v),
            TensorProto.Types.DataType.Uint32 => Convert(MemoryMarshal.Cast<byte, uint>(raw), v => (float)v),
            TensorProto.Types.DataType.Uint64 => Convert(MemoryMarshal.Cast<byte, ulong>(raw), v => (float)v),
            TensorProto.Types.DataType.Int8 => Convert(MemoryMarshal.Cast<byte, sbyte>(raw), v => (float)v),
            TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Bool => Convert<byte, float>(raw, v => v),
            TensorProto.Types.DataType.Float16 => Convert(MemoryMarshal.Cast<byte, Half>(raw), v => (float)v),
            TensorProto.Types.DataType.Bfloat16 => Convert(MemoryMarshal.Cast<byte, ushort>(raw), v => BitConverter.Int32BitsToSingle(v << 16)),
            _ => throw Unsupported(tensor),
        };
    }

    /// <summary>The values as int64 (for shapes, indices and axes).</summary>
    public static long[] ToInt64s(TensorProto tensor, OnnxModel? model = null)
    {
        var raw = ReadRawBytes(tensor, model);
        var type = DataType(tensor);
        if (raw is null)
        {
            return type switch
            {
                TensorProto.Types.DataType.Int64 => tensor.Int64Data.ToArray(),
                TensorProto.Types.DataType.Uint32 or TensorProto.Types.DataType.Uint64 => tensor.Uint64Data.Select(v => (long)v).ToArray(),
                TensorProto.Types.DataType.Float => tensor.FloatData.Select(v => (long)v).ToArray(),
                TensorProto.Types.DataType.Double => tensor.DoubleData.Select(v => (long)v).ToArray(),
                _ => tensor.Int32Data.Select(v => (long)v).ToArray(),
            };
        }

        return type switch
        {
            TensorProto.Types.DataType.Int64 => MemoryMarshal.Cast<byte, long>(raw).ToArray(),
            TensorProto.Types.DataType.Int32 => Convert(MemoryMarshal.Cast<byte, int>(raw), v => (long)v),
            TensorProto.Types.DataType.Int16 => Convert(MemoryMarshal.Cast<byte, short>(raw), v => (long)v),
            TensorProto.Types.DataType.Int8 => Convert(MemoryMarshal.Cast<byte, sbyte>(raw), v => (long)v),
            TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Bool => Convert<byte, long>(raw, v => v),
            TensorProto.Types.DataType.Uint16 => Convert(MemoryMarshal.Cast<byte, ushort>(raw), v => (long)v),
            TensorProto.Types.DataType.Uint32 => Convert(MemoryMarshal.Cast<byte, uint>(raw), v => (long)v),
            TensorProto.Types.DataType.Uint64 => Convert(MemoryMarshal.Cast<byte, ulong>(raw), v => (long)v),
            TensorProto.Types.DataType.Float => Convert(MemoryMarshal.Cast<byte, float>(raw), v => (long)v),
            TensorProto.Types.DataType.Double => Convert(MemoryMarshal.Cast<byte, double>(raw), v => (long)v),
            _ => throw Unsupported(tensor),
        };
    }

    /// <summary>A float32 tensor with inline raw data.</summary>
    public static TensorProto FromFloats(string name, ReadOnlySpan<float> values, params long[] dims) =>
        FromRaw(name, TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(values), dims);

    /// <summary>An int64 tensor with inline raw data.</summary>
    public static TensorProto FromInt64s(string name, ReadOnlySpan<long> values, params long[] dims) =>
        FromRaw(name, TensorProto.Types.DataType.Int64, MemoryMarshal.AsBytes(values), dims);

    /// <summary>An int32 tensor with inline raw data.</summary>
    public static TensorProto FromInt32s(string name, ReadOnlySpan<int> values, params long[] dims) =>
        FromRaw(name, TensorProto.Types.DataType.Int32, MemoryMarshal.AsBytes(values), dims);

    /// <summary>An int8 tensor with inline raw data.</summary>
    public static TensorProto FromInt8s(string name, ReadOnlySpan<sbyte> values, params long[] dims) =>
        FromRaw(name, TensorProto.Types.DataType.Int8, MemoryMarshal.AsBytes(values), dims);

    /// <summary>A uint8 tensor with inline raw data.</summary>
    public static TensorProto FromUInt8s(string name, ReadOnlySpan<byte> values, params long[] dims) =>
        FromRaw(name, TensorProto.Types.DataType.Uint8, values, dims);

    /// <summary>A tensor of any type from its little-endian bytes.</summary>
    public static TensorProto FromRaw(string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> bytes, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    private static TOut[] Convert<TIn, TOut>(ReadOnlySpan<TIn> values, Func<TIn, TOut> convert)
    {
        var result = new TOut[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = convert(values[i]);
        }

        return result;
    }

    private static long? ExternalNumber(TensorProto tensor, OnnxModel model, string key)
    {
        var text = tensor.ExternalData.LastOrDefault(e => e.Key == key)?.Value;
        if (text is null)
        {
            return null;
        }

        if (!long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value))
        {
            throw new DsgException(ErrorCodes.MalformedModel,
                $"Tensor '{tensor.Name}' in '{model.DisplayName}' has external data {key} '{text}', which is not a non-negative 64-bit integer.",
                "The model file is corrupt or was written by a faulty exporter; save it again with onnx.save_model.") { FilePath = model.DisplayName };
        }

        return value;
    }

    private static DsgException TooLarge(string tensor, string detail) =>
        new(ErrorCodes.TensorTooLarge,
            $"Tensor '{tensor}' is too large: {detail}.",
            "The model file is corrupt, or the tensor is beyond what Dsg handles in one piece; check the model with `dotnet dsg inspect`.");

    private static DsgException Unsupported(TensorProto tensor) =>
        new(ErrorCodes.MalformedModel,
            $"Tensor '{tensor.Name}' has element type {DataType(tensor)}, which Dsg cannot read as numbers.",
            "Only numeric tensors are supported in the model's weights and constants.");
}
