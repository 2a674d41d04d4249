using Dsg.Core.Graph.Execution;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Operators;

/// <summary>
/// The Reduce* family: axes as attribute (or input: ReduceSum from opset 13, the others from 18), keepdims,
/// noop_with_empty_axes; no axes means every axis.
/// </summary>
internal static class ReduceOperators
{
    /// <summary>The entries.</summary>
    public static IEnumerable<IOperator> All()
    {
        yield return Reduce("ReduceMean", 18, (x, dims, keep) => x.mean(dims, keep));
        yield return Reduce("ReduceSum", 13, (x, dims, keep) => x.sum(dims, keep));
        yield return Reduce("ReduceMax", 18, (x, dims, keep) => x.amax(dims, keep));
        yield return Reduce("ReduceMin", 18, (x, dims, keep) => x.amin(dims, keep));
        yield return Reduce("ReduceProd", 18, (x, dims, keep) =>
        {
            var result = x.alias();
            foreach (var dim in dims.OrderDescending())
            {
                using var previous = result;
                result = previous.prod(dim, keep);
            }

            return result;
        });
        yield return Reduce("ReduceLogSum", 18, (x, dims, keep) =>
        {
            using var sum = x.sum(dims, keep);
            return sum.log();
        });
        yield return Reduce("ReduceSumSquare", 18, (x, dims, keep) =>
        {
            using var squared = x.mul(x);
            return squared.sum(dims, keep);
        });
        yield return Reduce("ReduceL1", 18, (x, dims, keep) =>
        {
            using var magnitude = x.abs();
            return magnitude.sum(dims, keep);
        });
        yield return Reduce("ReduceL2", 18, (x, dims, keep) =>
        {
            using var squared = x.mul(x);
            using var sum = squared.sum(dims, keep);
            return sum.sqrt();
        });
        yield return Reduce("ReduceLogSumExp", 18, (x, dims, keep) =>
        {
            using var max = x.amax(dims, true);
            using var shifted = x.sub(max);
            using var exp = shifted.exp();
            using var sum = exp.sum(dims, keep);
            using var log = sum.log();
            if (keep)
            {
                return log.Plus(max);
            }

            using var dropped = max.reshape(log.shape);
            return log.Plus(dropped);
        });
    }

    private static IOperator Reduce(string opType, long axesInputSince, Func<Tensor, long[], bool, Tensor> reduce) =>
        new Operator(opType, node =>
        {
            var axes = Int64sArgument.FromAttributeOrInput(node, "axes", 1, axesInputSince);
            bool keepDims = node.Int("keepdims", 1) != 0;
            bool noopWithEmptyAxes = node.Int("noop_with_empty_axes", 0) != 0;
            return new ArgumentKernel(inputs =>
            {
                var x = inputs[0]!;
                var requested = axes.Read(inputs);
                if (requested is null || requested.Length == 0)
                {
                    if (noopWithEmptyAxes)
                    {
                        return x.alias();
                    }

                    requested = Enumerable.Range(0, (int)x.ndim).Select(i => (long)i).ToArray();
                }

                var dims = requested.Select(a => TensorValues.NormalizeAxis(a, x.ndim, m => new InvalidOperationException(m))).ToArray();
                return reduce(x, dims, keepDims);
            });
        });
}
