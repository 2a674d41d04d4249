using Dsg.Core.Graph.Execution;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Dsg.Core.Graph.Operators;

/// <summary>Conv (1-D, 2-D, 3-D): groups, dilations, strides, explicit (also asymmetric) pads and auto_pad.</summary>
internal sealed class ConvOperator : IOperator
{
    public string OpType => "Conv";

    public OperatorKernel Build(NodeContext node)
    {
        var weight = node.Constant(1);
        int? rank = weight is not null ? (int)weight.ndim - 2 : node.Ints("kernel_shape")?.Length;
        return rank is int known ? Build(node, known) : new RankDeferredKernel(r => Build(node, r), 1);
    }

    private static OperatorKernel Build(NodeContext node, int rank)
    {
        if (rank is < 1 or > 3)
        {
            throw node.Unsupported($"{rank}-D convolution is not supported (1-D, 2-D and 3-D are).");
        }

        var (strides, dilations, pads, autoPad) = SpatialPadding.ReadGeometry(node, rank);
        return new ConvKernel(rank, strides, dilations, pads, autoPad == "SAME_UPPER", node.Int("group", 1));
    }

    private sealed class ConvKernel(int rank, long[] strides, long[] dilations, long[]? pads, bool sameUpper, long groups)
        : SingleOutputKernel
    {
        protected override Tensor Compute(ReadOnlySpan<Tensor?> inputs)
        {
            var x = inputs[0]!;
            var w = inputs[1]!;
            var b = inputs.Length > 2 ? inputs[2] : null;
            var p = pads ?? SpatialPadding.Same(sameUpper, x.shape.AsSpan(2), w.shape[2..], strides, dilations);
            if (SpatialPadding.IsSymmetric(p))
            {
                return Convolve(x, w, b, SpatialPadding.Begin(p));
            }

            using var padded = F.pad(x, SpatialPadding.ToTorch(p));
            return Convolve(padded, w, b, new long[rank]);
        }

        private Tensor Convolve(Tensor x, Tensor w, Tensor? b, long[] padding) => rank switch
        {
            1 => F.conv1d(x, w, b, strides[0], padding[0], dilations[0], groups),
            2 => F.conv2d(x, w, b, strides, padding, dilations, groups),
            _ => F.conv3d(x, w, b, strides, padding, dilations, groups),
        };
    }
}
