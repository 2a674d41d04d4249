using System.Runtime.InteropServices;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using TorchSharp;
using static TorchSharp.torch;
using DataType = Dsg.Core.Onnx.Proto.TensorProto.Types.DataType;

namespace Dsg.Core.Graph;

/// <summary>Converts ONNX <see cref="TensorProto"/>s to TorchSharp tensors and back, keeping the element type.</summary>
public static class TensorProtoConverter
{
    /// <summary>The TorchSharp element type of an ONNX element type, or null when TorchSharp has none.</summary>
    public static ScalarType? ToScalarType(DataType type) => type switch
    {
        DataType.Float => ScalarType.Float32,
        DataType.Double => ScalarType.Float64,
        DataType.Float16 => ScalarType.Float16,
        DataType.Bfloat16 => ScalarType.BFloat16,
        DataType.Int64 => ScalarType.Int64,
        DataType.Int32 => ScalarType.Int32,
        DataType.Int16 => ScalarType.Int16,
        DataType.Int8 => ScalarType.Int8,
        DataType.Uint8 => ScalarType.Byte,
        DataType.Bool => ScalarType.Bool,
        _ => null,
    };

    /// <summary>The ONNX element type of a TorchSharp element type.</summary>
    public static DataType ToDataType(ScalarType type) => type switch
    {
        ScalarType.Float32 => DataType.Float,
        ScalarType.Float64 => DataType.Double,
        ScalarType.Float16 => DataType.Float16,
        ScalarType.BFloat16 => DataType.Bfloat16,
        ScalarType.Int64 => DataType.Int64,
        ScalarType.Int32 => DataType.Int32,
        ScalarType.Int16 => DataType.Int16,
        ScalarType.Int8 => DataType.Int8,
        ScalarType.Byte => DataType.Uint8,
        ScalarType.Bool => DataType.Bool,
        _ => throw new ArgumentException($"Element type {type} has no ONNX counterpart here.", nameof(type)),
    };

    /// <summary>
    /// Reads a tensor (inline typed fields, raw data or external data) into a new TorchSharp tensor on
    /// <paramref name="device"/> (CPU when null). The result has requires_grad false.
    /// </summary>
    /// <exception cref="DsgException">DSG0106 when the element type has no TorchSharp counterpart.</exception>
    public static Tensor ToTensor(TensorProto proto, OnnxModel? model = null, Device? device = null)
    {
        var dataType = (DataType)proto.DataType;
        var scalarType = ToScalarType(dataType) ?? throw new DsgException(ErrorCodes.MalformedModel,
            $"Tensor '{proto.Name}' has element type {dataType}, which the executor cannot hold.",
            "Only float, double, float16, bfloat16, int8/16/32/64, uint8 and bool tensors are supported.");
        var dims = proto.Dims.ToArray();
        long count = dims.Aggregate(1L, (a, d) => a * d);
        var raw = OnnxTensor.ReadRawBytes(proto, model) ?? TypedFieldBytes(proto, dataType);
        int elementSize = ElementSize(scalarType);
        if (raw.Length != count * elementSize)
        {
            throw new DsgException(ErrorCodes.MalformedModel,
                $"Tensor '{proto.Name}' has {raw.Length} bytes of data, but its shape [{string.Join(",", dims)}] of {dataType} needs {count * elementSize}.",
                "The model file is damaged or was written by a faulty exporter; export it again.");
        }

        var tensor = torch.empty(dims, scalarType);
        if (raw.Length > 0)
        {
            raw.CopyTo(tensor.bytes);
        }

        if (device is null || device.type == DeviceType.CPU)
        {
            return tensor;
        }

        using (tensor)
        {
            return tensor.to(device);
        }
    }

    /// <summary>Writes a tensor as an ONNX <see cref="TensorProto"/> with raw data.</summary>
    public static TensorProto ToProto(string name, Tensor tensor)
    {
        using var cpu = tensor.detach().cpu().contiguous();
        return OnnxTensor.FromRaw(name, ToDataType(cpu.dtype), cpu.bytes, cpu.shape);
    }

    /// <summary>The values of any numeric tensor as doubles (copied to the CPU).</summary>
    public static double[] ToDoubles(Tensor tensor)
    {
        if (tensor.numel() == 0)
        {
            return [];
        }

        using var cpu = tensor.detach().to(ScalarType.Float64, torch.CPU).contiguous();
        return cpu.data<double>().ToArray();
    }

    private static int ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };

    private static byte[] TypedFieldBytes(TensorProto proto, DataType type)
    {
        switch (type)
        {
            case DataType.Float:
                return MemoryMarshal.AsBytes(proto.FloatData.ToArray().AsSpan()).ToArray();
            case DataType.Double:
                return MemoryMarshal.AsBytes(proto.DoubleData.ToArray().AsSpan()).ToArray();
            case DataType.Int64:
                return MemoryMarshal.AsBytes(proto.Int64Data.ToArray().AsSpan()).ToArray();
            case DataType.Int32:
                return MemoryMarshal.AsBytes(proto.Int32Data.ToArray().AsSpan()).ToArray();
            case DataType.Int16:
            case DataType.Float16:
            case DataType.Bfloat16:
                return MemoryMarshal.AsBytes(proto.Int32Data.Select(v => (ushort)v).ToArray().AsSpan()).ToArray();
            case DataType.Int8:
            case DataType.Uint8:
            case DataType.Bool:
                return proto.Int32Data.Select(v => (byte)v).ToArray();
            default:
                throw new DsgException(ErrorCodes.MalformedModel,
                    $"Tensor '{proto.Name}' has element type {type}, which the executor cannot hold.",
                    "Only numeric tensors are supported.");
        }
    }
}
