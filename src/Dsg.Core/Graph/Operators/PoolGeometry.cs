using Dsg.Core.Graph.Execution;

namespace Dsg.Core.Graph.Operators;

/// <summary>The parsed window of a MaxPool / AveragePool node.</summary>
internal sealed class PoolGeometry
{
    private readonly long[]? _pads;
    private readonly bool _sameUpper;

    private PoolGeometry(long[] kernel, long[] strides, long[] dilations, long[]? pads, bool sameUpper, bool ceilMode)
    {
        Kernel = kernel;
        Strides = strides;
        Dilations = dilations;
        _pads = pads;
        _sameUpper = sameUpper;
        CeilMode = ceilMode;
    }

    public long[] Kernel { get; }

    public long[] Strides { get; }

    public long[] Dilations { get; }

    public bool CeilMode { get; }

    public int Rank => Kernel.Length;

    public static PoolGeometry Read(NodeContext node)
    {
        var kernel = node.Ints("kernel_shape") ?? throw node.Unsupported("kernel_shape is required.");
        if (kernel.Length is < 1 or > 3 || kernel.Any(k => k <= 0))
        {
            throw node.Unsupported($"kernel_shape [{string.Join(",", kernel)}] is not supported (1-D, 2-D or 3-D windows).");
        }

        var (strides, dilations, pads, autoPad) = SpatialPadding.ReadGeometry(node, kernel.Length);
        return new PoolGeometry(kernel, strides, dilations, pads, autoPad == "SAME_UPPER", node.Int("ceil_mode", 0) != 0);
    }

    /// <summary>The ONNX pads for an input of this spatial size.</summary>
    public long[] Pads(ReadOnlySpan<long> spatial) =>
        _pads ?? SpatialPadding.Same(_sameUpper, spatial, Kernel, Strides, Dilations);

    /// <summary>Whether TorchSharp's pool can take these pads itself (symmetric and at most half the window).</summary>
    public bool FitsTorchPadding(long[] pads)
    {
        if (!SpatialPadding.IsSymmetric(pads))
        {
            return false;
        }

        for (int i = 0; i < Rank; i++)
        {
            if (2 * pads[i] > (Kernel[i] - 1) * Dilations[i] + 1)
            {
                return false;
            }
        }

        return true;
    }
}
