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
    public static long ElementCount(TensorProto tensor) => tensor.Dims.Aggregate(1L, (a, d) => a * d);

    /// <summary>Whether the data lives in an external file.</summary>
    public static bool IsExternal(TensorProto tensor) =>
        tensor.HasDataLocation && tensor.DataLocation == TensorProto.Types.DataLocation.External;

    /// <summary>The element type.</summary>
    public static TensorProto.Types.DataType DataType(TensorProto tensor) => (TensorProto.Types.DataType)tensor.DataType;

    /// <summary>
    /// The full path of an external-data tensor's file, refusing locations that are absolute or leave the
    /// model's folder (directly, through "..", or through a symbolic link).
    /// </summary>
    public static string ResolveExternalPath(TensorProto tensor, OnnxModel model)
    {
        var location = tensor.ExternalData.FirstOrDefault(e => e.Key == "location")?.Value;
        if (string.IsNullOrEmpty(location))
        {
            throw new DsgException(ErrorCodes.MalformedModel,
                $"Tensor '{tensor.Name}' in '{model.DisplayName}' is marked external but has no location.",
                "Re-save the model with onnx.save_model(..., save_as_external_data=True) or with the data inline.");
        }

        if (model.Directory is null)
        {
            throw new DsgException(ErrorCodes.ExternalDataMissing,
                $"Tensor '{tensor.Name}' keeps its data in '{location}', but the model was not loaded from a folder.",
                "Load the model from its file so its external data can be found beside it.");
        }

        var root = Path.GetFullPath(model.Directory);
        var rootWithSeparator = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        var candidate = Path.GetFullPath(Path.Combine(root, location));
        bool inside = !Path.IsPathRooted(location) && candidate.StartsWith(rootWithSeparator, StringComparison.Ordinal);
        if (inside && File.Exists(candidate))
        {
            var target = new FileInfo(candidate).ResolveLinkTarget(returnFinalTarget: true);
            if (target is not null)
            {
                inside = Path.GetFullPath(target.FullName).StartsWith(rootWithSeparator, StringComparison.Ordinal);
            }
        }

        if (!inside)
        {
            throw new DsgException(ErrorCodes.ExternalDataOutsideModel,
                $"Tensor '{tensor.Name}' in '{model.DisplayName}' points to external data at '{location}', outside the model's folder '{root}'.",
                "Dsg only reads external data from the model's own folder. Move the data file next to the model and re-save the model with a relative location.")
            { FilePath = model.DisplayName };
        }

        return candidate;
    }

    /// <summary>The little-endian bytes of a tensor stored as raw_data or externally; null when it uses typed fields.</summary>
    public static byte[]? ReadRawBytes(TensorProto tensor, OnnxModel? model)
    {
        if (IsExternal(tensor))
        {
            if (model is null)
            {
                throw new DsgException(ErrorCodes.ExternalDataMissing,
                    $"Tensor '{tensor.Name}' keeps its data in an external file, and no model folder was given.",
                    "Load the model from its file so its external data can be found beside it.");
            }

            var path = ResolveExternalPath(tensor, model);
            long offset = long.TryParse(tensor.ExternalData.FirstOrDefault(e => e.Key == "offset")?.Value, out var o) ? o : 0;
            long length = long.TryParse(tensor.ExternalData.FirstOrDefault(e => e.Key == "length")?.Value, out var l) ? l : -1;
            if (!File.Exists(path))
            {
                throw new DsgException(ErrorCodes.ExternalDataMissing,
                    $"External data file '{path}' for tensor '{tensor.Name}' does not exist.",
                    "Copy the model's data file(s) together with the .onnx file.") { FilePath = path };
            }

            using var stream = File.OpenRead(path);
            if (length < 0)
            {
                length = stream.Length - offset;
            }

            if (offset < 0 || offset + length > stream.Length)
            {
                throw new DsgException(ErrorCodes.ExternalDataMissing,
                    $"External data file '{path}' is {stream.Length} bytes; tensor '{tensor.Name}' needs bytes {offset}..{offset + length}.",
                    "The data file is truncated or belongs to another model; copy it again.") { FilePath = path };
            }

            var buffer = new byte[length];
            stream.Seek(offset, SeekOrigin.Begin);
            stream.ReadExactly(buffer);
            return buffer;
        }

        return tensor.HasRawData ? tensor.RawData.ToByteArray() : null;
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

    private static DsgException Unsupported(TensorProto tensor) =>
        new(ErrorCodes.MalformedModel,
            $"Tensor '{tensor.Name}' has element type {DataType(tensor)}, which Dsg cannot read as numbers.",
            "Only numeric tensors are supported in the model's weights and constants.");
}
