using Dsg.Core.Graph.Execution;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Dsg.Core.Graph.Operators;

/// <summary>
/// Pad: constant, reflect and edge modes on any dimensions; pads (and the constant value) as attributes
/// (opset &lt; 11) or inputs; negative pads crop. Reflect and edge run as index selection, so they work for
/// every rank and element type and stay differentiable.
/// </summary>
internal sealed class PadOperator : IOperator
{
    public string OpType => "Pad";

    public OperatorKernel Build(NodeContext node)
    {
        var mode = node.Choice("mode", "constant", "constant", "reflect", "edge");
        Int64sArgument pads;
        Int64sArgument axes;
        double? constantValue = null;
        bool runtimeValue = false;
        if (node.Opset < 11)
        {
            pads = Int64sArgument.FromAttribute(node, node.Opset < 2 ? "paddings" : "pads");
            axes = Int64sArgument.FromAttribute(node, "__none__");
            constantValue = node.Float("value", 0f);
        }
        else
        {
            pads = Int64sArgument.FromInput(node, 1);
            axes = Int64sArgument.FromInput(node, 3);
            constantValue = node.ConstantDoubles(2)?.Single();
            runtimeValue = node.HasInput(2) && constantValue is null;
        }

        if (!pads.IsPresent)
        {
            throw node.Unsupported("pads are missing.");
        }

        return new ArgumentKernel(inputs =>
        {
            var x = inputs[0]!;
            int rank = (int)x.ndim;
            var given = pads.Read(inputs)!;
            var axisList = axes.Read(inputs)?.Select(a => TensorValues.NormalizeAxis(a, rank, m => new InvalidOperationException(m))).ToArray()
                ?? Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
            if (given.Length != 2 * axisList.Length)
            {
                throw new InvalidOperationException($"{given.Length} pads given for {axisList.Length} axes.");
            }

            var begin = new long[rank];
            var end = new long[rank];
            for (int i = 0; i < axisList.Length; i++)
            {
                begin[axisList[i]] = given[i];
                end[axisList[i]] = given[axisList.Length + i];
            }

            if (mode == "constant")
            {
                double value = runtimeValue ? TensorValues.ToDoubles(inputs[2]!)[0] : constantValue ?? 0;
                var torchPads = new long[2 * rank];
                for (int i = 0; i < rank; i++)
                {
                    torchPads[2 * i] = begin[rank - 1 - i];
                    torchPads[2 * i + 1] = end[rank - 1 - i];
                }

                return F.pad(x, torchPads, PaddingModes.Constant, value);
            }

            var result = x.alias();
            for (int d = 0; d < rank; d++)
            {
                if (begin[d] == 0 && end[d] == 0)
                {
                    continue;
                }

                long n = result.shape[d];
                var index = new long[Math.Max(0, n + begin[d] + end[d])];
                for (int k = 0; k < index.Length; k++)
                {
                    index[k] = mode == "edge" ? Math.Clamp(k - begin[d], 0, n - 1) : Reflect(k - begin[d], n);
                }

                using var previous = result;
                using var indexTensor = TensorValues.Int64Tensor(index, x.device);
                result = previous.index_select(d, indexTensor);
            }

            return result;
        });
    }

    private static long Reflect(long i, long n)
    {
        if (n == 1)
        {
            return 0;
        }

        long period = 2 * (n - 1);
        long j = ((i % period) + period) % period;
        return j < n ? j : period - j;
    }
}
