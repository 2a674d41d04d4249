using Dsg.Core.Graph.Execution;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Dsg.Core.Graph.Operators;

/// <summary>LRN, InstanceNormalization, LayerNormalization and MeanVarianceNormalization (statistics of the input itself).</summary>
internal static class NormalizationOperators
{
    /// <summary>The entries.</summary>
    public static IEnumerable<IOperator> All()
    {
        yield return new Operator("LRN", node =>
        {
            long size = node.Int("size", 0);
            if (size <= 0)
            {
                throw node.Unsupported("size must be positive.");
            }

            double alpha = node.Float("alpha", 1e-4f);
            double beta = node.Float("beta", 0.75f);
            double bias = node.Float("bias", 1f);
            long before = (size - 1) / 2;
            long after = size - 1 - before;
            return new UnaryKernel(x =>
            {
                // Sum of squares over a channel window [c - before, c + after], as an average pool over the channel axis.
                var shape = x.shape;
                using var squared = x.mul(x);
                using var planes = squared.reshape(shape[0], 1, shape[1], -1);
                using var padded = F.pad(planes, [0, 0, before, after]);
                using var mean = F.avg_pool2d(padded, [size, 1], [1, 1]);
                using var scaled = mean.Times(alpha).Plus(bias);
                using var divisor = scaled.Power(beta);
                using var reshaped = divisor.reshape(shape);
                return x.div(reshaped);
            });
        });
        yield return new Operator("InstanceNormalization", node =>
        {
            double epsilon = node.Float("epsilon", 1e-5f);
            return new ArgumentKernel(inputs => F.instance_norm(inputs[0]!, weight: inputs[1], bias: inputs[2], eps: epsilon));
        });
        yield return new Operator("LayerNormalization", node =>
        {
            long axis = node.Int("axis", -1);
            double epsilon = node.Float("epsilon", 1e-5f);
            return new LayerNormKernel(axis, epsilon);
        });
        yield return new Operator("MeanVarianceNormalization", node =>
        {
            var axes = node.Ints("axes") ?? [0, 2, 3];
            return new UnaryKernel(x =>
            {
                var dims = axes.Select(a => TensorValues.NormalizeAxis(a, x.ndim, m => new InvalidOperationException(m))).ToArray();
                using var mean = x.mean(dims, keepdim: true);
                using var centered = x.sub(mean);
                using var squared = centered.mul(centered);
                using var variance = squared.mean(dims, keepdim: true);
                using var deviation = variance.sqrt();
                using var safe = deviation.Plus(1e-9);
                return centered.div(safe);
            });
        });
    }

    private sealed class LayerNormKernel(long axis, double epsilon) : OperatorKernel
    {
        public override void Run(ReadOnlySpan<Tensor?> inputs, Span<Tensor?> outputs)
        {
            var x = inputs[0]!;
            long a = TensorValues.NormalizeAxis(axis, x.ndim, m => new InvalidOperationException(m));
            var dims = Enumerable.Range((int)a, (int)(x.ndim - a)).Select(d => (long)d).ToArray();
            var mean = x.mean(dims, keepdim: true);
            using var centered = x.sub(mean);
            using var squared = centered.mul(centered);
            using var variance = squared.mean(dims, keepdim: true);
            using var shifted = variance.Plus(epsilon);
            var inverse = shifted.rsqrt();
            using var normalized = centered.mul(inverse);
            var y = normalized.mul(inputs[1]!);
            if (inputs.Length > 2 && inputs[2] is { } bias)
            {
                using var unbiased = y;
                y = unbiased.Plus(bias);
            }

            outputs[0] = y;
            if (outputs.Length > 1)
            {
                outputs[1] = mean;
            }
            else
            {
                mean.Dispose();
            }

            if (outputs.Length > 2)
            {
                outputs[2] = inverse;
            }
            else
            {
                inverse.Dispose();
            }
        }
    }
}
