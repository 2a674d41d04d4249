using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Execution;

/// <summary>Small conversions between tensors that carry shapes, axes or scalars and .NET arrays.</summary>
internal static class TensorValues
{
    /// <summary>The values of an integer (or any numeric) tensor as int64, read on the CPU.</summary>
    public static long[] ToInt64s(Tensor tensor)
    {
        if (tensor.numel() == 0)
        {
            return [];
        }

        if (tensor.device_type == DeviceType.CPU && tensor.dtype == ScalarType.Int64 && tensor.is_contiguous())
        {
            return tensor.data<long>().ToArray();
        }

        using var cpu = tensor.detach().to(ScalarType.Int64, torch.CPU).contiguous();
        return cpu.data<long>().ToArray();
    }

    /// <summary>The values of a numeric tensor as double, read on the CPU.</summary>
    public static double[] ToDoubles(Tensor tensor) => TensorProtoConverter.ToDoubles(tensor);

    /// <summary>A 1-D int64 tensor on <paramref name="device"/>.</summary>
    public static Tensor Int64Tensor(long[] values, Device device) => torch.tensor(values, ScalarType.Int64, device);

    /// <summary>Maps a possibly negative axis into [0, rank).</summary>
    public static long NormalizeAxis(long axis, long rank, Func<string, Exception> error)
    {
        long normalized = axis < 0 ? axis + rank : axis;
        if (normalized < 0 || normalized >= Math.Max(rank, 1))
        {
            throw error($"axis {axis} is out of range for a tensor of rank {rank}.");
        }

        return normalized;
    }

    /// <summary>Whether the element type is a floating-point type.</summary>
    public static bool IsFloating(ScalarType type) =>
        type is ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16;

    /// <summary>The product of a range of dimensions.</summary>
    public static long Product(ReadOnlySpan<long> dims)
    {
        long p = 1;
        foreach (var d in dims)
        {
            p *= d;
        }

        return p;
    }
}
