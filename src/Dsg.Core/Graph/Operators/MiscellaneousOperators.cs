using Dsg.Core.Graph.Execution;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Dsg.Core.Graph.Operators;

/// <summary>
/// Less common operators that image models still use: more activations, Mod, logical ops, ArgMax/ArgMin,
/// GatherElements, DepthToSpace/SpaceToDepth, CumSum, Trilu.
/// </summary>
internal static class MiscellaneousOperators
{
    /// <summary>The entries.</summary>
    public static IEnumerable<IOperator> All()
    {
        yield return ElementwiseOperators.Unary("Softsign", _ => x => F.softsign(x));
        yield return ElementwiseOperators.Unary("Celu", n =>
        {
            double alpha = n.Float("alpha", 1f);
            return x =>
            {
                using var a = alpha.ToScalar();
                return x.celu(a);
            };
        });
        yield return ElementwiseOperators.Unary("ThresholdedRelu", n =>
        {
            double alpha = n.Float("alpha", 1f);
            return x =>
            {
                using var threshold = alpha.ToScalar();
                using var zero = 0.0.ToScalar();
                return x.threshold(threshold, zero);
            };
        });
        yield return ElementwiseOperators.Unary("Shrink", n =>
        {
            double bias = n.Float("bias", 0f);
            double lambd = n.Float("lambd", 0.5f);
            return x =>
            {
                using var below = x.LessThan(-lambd);
                using var above = x.GreaterThan(lambd);
                using var plus = x.Plus(bias);
                using var minus = x.Minus(bias);
                using var zero = torch.zeros_like(x);
                using var upper = torch.where(above, minus, zero);
                return torch.where(below, plus, upper);
            };
        });
        yield return ElementwiseOperators.Unary("Round", _ => x => x.round());
        yield return ElementwiseOperators.Unary("Sin", _ => x => x.sin());
        yield return ElementwiseOperators.Unary("Cos", _ => x => x.cos());
        yield return ElementwiseOperators.Unary("IsNaN", _ => x => x.isnan());
        yield return ElementwiseOperators.Unary("IsInf", n =>
        {
            bool positive = n.Int("detect_positive", 1) != 0;
            bool negative = n.Int("detect_negative", 1) != 0;
            return x =>
            {
                using var infinite = x.isinf();
                using var sign = positive && negative ? null : positive ? x.GreaterThan(0) : x.LessThan(0);
                return sign is null ? infinite.alias() : positive || negative ? infinite.logical_and(sign) : torch.zeros_like(infinite);
            };
        });
        yield return new Operator("Mod", n =>
        {
            bool fmod = n.Int("fmod", 0) != 0;
            return new BinaryKernel((a, b) => fmod ? a.fmod(b) : a.remainder(b));
        });
        yield return new Operator("And", _ => new BinaryKernel((a, b) => a.logical_and(b)));
        yield return new Operator("Or", _ => new BinaryKernel((a, b) => a.logical_or(b)));
        yield return new Operator("Xor", _ => new BinaryKernel((a, b) => a.logical_xor(b)));
        yield return new Operator("ArgMax", n => ArgReduce(n, max: true));
        yield return new Operator("ArgMin", n => ArgReduce(n, max: false));
        yield return new Operator("GatherElements", n =>
        {
            long axis = n.Int("axis", 0);
            return new BinaryKernel((data, indices) =>
            {
                long a = TensorValues.NormalizeAxis(axis, data.ndim, m => new InvalidOperationException(m));
                using var asLong = indices.to_type(ScalarType.Int64);
                using var negative = asLong.LessThan(0);
                using var wrapped = asLong.Plus(data.shape[a]);
                using var normalized = torch.where(negative, wrapped, asLong);
                return data.gather(a, normalized);
            });
        });
        yield return new Operator("DepthToSpace", n =>
        {
            long b = n.Int("blocksize", 0);
            bool crd = n.Choice("mode", "DCR", "DCR", "CRD") == "CRD";
            return new UnaryKernel(x =>
            {
                var s = x.shape;
                long c = s[1] / (b * b);
                using var split = crd ? x.reshape(s[0], c, b, b, s[2], s[3]) : x.reshape(s[0], b, b, c, s[2], s[3]);
                using var moved = crd ? split.permute(0, 1, 4, 2, 5, 3) : split.permute(0, 3, 4, 1, 5, 2);
                return moved.reshape(s[0], c, s[2] * b, s[3] * b);
            });
        });
        yield return new Operator("SpaceToDepth", n =>
        {
            long b = n.Int("blocksize", 0);
            return new UnaryKernel(x =>
            {
                var s = x.shape;
                using var split = x.reshape(s[0], s[1], s[2] / b, b, s[3] / b, b);
                using var moved = split.permute(0, 3, 5, 1, 2, 4);
                return moved.reshape(s[0], s[1] * b * b, s[2] / b, s[3] / b);
            });
        });
        yield return new Operator("CumSum", n =>
        {
            bool exclusive = n.Int("exclusive", 0) != 0;
            bool reverse = n.Int("reverse", 0) != 0;
            var constantAxis = n.ConstantInt64s(1);
            return new BinaryKernel((x, axisTensor) =>
            {
                long axis = TensorValues.NormalizeAxis((constantAxis ?? TensorValues.ToInt64s(axisTensor))[0], x.ndim, m => new InvalidOperationException(m));
                var source = reverse ? x.flip(axis) : x.alias();
                using (source)
                {
                    Tensor summed;
                    if (exclusive)
                    {
                        var pads = new long[2 * (x.ndim - axis)];
                        pads[^2] = 1;
                        using var shifted = F.pad(source, pads);
                        using var trimmed = shifted.narrow(axis, 0, x.shape[axis]);
                        summed = trimmed.cumsum(axis);
                    }
                    else
                    {
                        summed = source.cumsum(axis);
                    }

                    if (!reverse)
                    {
                        return summed;
                    }

                    using (summed)
                    {
                        return summed.flip(axis);
                    }
                }
            });
        });
        yield return new Operator("Trilu", n =>
        {
            bool upper = n.Int("upper", 1) != 0;
            var constantK = n.ConstantInt64s(1);
            bool runtimeK = n.HasInput(1) && constantK is null;
            return new ArgumentKernel(inputs =>
            {
                long k = runtimeK ? TensorValues.ToInt64s(inputs[1]!)[0] : constantK?[0] ?? 0;
                return upper ? inputs[0]!.triu(k) : inputs[0]!.tril(k);
            });
        });
    }

    private static OperatorKernel ArgReduce(NodeContext node, bool max)
    {
        long axis = node.Int("axis", 0);
        bool keepDims = node.Int("keepdims", 1) != 0;
        bool last = node.Int("select_last_index", 0) != 0;
        return new UnaryKernel(x =>
        {
            long a = TensorValues.NormalizeAxis(axis, x.ndim, m => new InvalidOperationException(m));
            if (!last)
            {
                return max ? x.argmax(a, keepDims) : x.argmin(a, keepDims);
            }

            using var flipped = x.flip(a);
            using var index = max ? flipped.argmax(a, keepDims) : flipped.argmin(a, keepDims);
            using var reversed = index.neg();
            return reversed.Plus(x.shape[a] - 1);
        });
    }
}
