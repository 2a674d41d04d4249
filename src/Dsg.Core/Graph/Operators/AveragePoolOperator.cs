using Dsg.Core.Graph.Execution;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Dsg.Core.Graph.Operators;

/// <summary>
/// AveragePool 1-D/2-D/3-D: strides, ceil_mode, count_include_pad, explicit/asymmetric pads and auto_pad.
/// Pads TorchSharp cannot take are applied with F.pad; without count_include_pad the sum is then divided by the
/// pooled count of real (unpadded) elements.
/// </summary>
internal sealed class AveragePoolOperator : IOperator
{
    public string OpType => "AveragePool";

    public OperatorKernel Build(NodeContext node)
    {
        var geometry = PoolGeometry.Read(node);
        if (geometry.Dilations.Any(d => d != 1))
        {
            throw node.Unsupported("dilations other than 1 are not supported for AveragePool.");
        }

        return new AveragePoolKernel(geometry, node.Int("count_include_pad", 0) != 0);
    }

    private sealed class AveragePoolKernel(PoolGeometry g, bool countIncludePad) : SingleOutputKernel
    {
        protected override Tensor Compute(ReadOnlySpan<Tensor?> inputs)
        {
            var x = inputs[0]!;
            var pads = g.Pads(x.shape.AsSpan(2));
            if (g.FitsTorchPadding(pads))
            {
                return Pool(x, SpatialPadding.Begin(pads), countIncludePad);
            }

            var torchPads = SpatialPadding.ToTorch(pads);
            using var padded = F.pad(x, torchPads);
            if (countIncludePad)
            {
                return Pool(padded, new long[g.Rank], true);
            }

            var maskShape = x.shape;
            for (int i = 0; i < 2; i++)
            {
                maskShape[i] = 1;
            }

            using var ones = torch.ones(maskShape, x.dtype, x.device);
            using var mask = F.pad(ones, torchPads);
            using var sum = Pool(padded, new long[g.Rank], true);
            using var count = Pool(mask, new long[g.Rank], true);
            return sum.div(count);
        }

        private Tensor Pool(Tensor x, long[] padding, bool includePad) => g.Rank switch
        {
            1 => F.avg_pool1d(x, g.Kernel[0], g.Strides[0], padding[0], g.CeilMode, includePad),
            2 => F.avg_pool2d(x, g.Kernel, g.Strides, padding, g.CeilMode, includePad),
            _ => F.avg_pool3d(x, g.Kernel, g.Strides, padding, g.CeilMode, includePad),
        };
    }
}
