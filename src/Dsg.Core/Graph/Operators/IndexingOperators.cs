using Dsg.Core.Graph.Execution;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Operators;

/// <summary>Gather (any axis, negative indices), Slice (attribute and input forms, any step) and Split.</summary>
internal static class IndexingOperators
{
    /// <summary>The entries.</summary>
    public static IEnumerable<IOperator> All()
    {
        yield return new Operator("Gather", BuildGather);
        yield return new Operator("Slice", BuildSlice);
        yield return new Operator("Split", BuildSplit);
    }

    private static OperatorKernel BuildGather(NodeContext node)
    {
        long axis = node.Int("axis", 0);
        var constantIndices = node.Constant(1);
        if (constantIndices is not null && constantIndices.ndim == 0)
        {
            long index = TensorValues.ToInt64s(constantIndices)[0];
            return new UnaryKernel(data =>
            {
                long a = TensorValues.NormalizeAxis(axis, data.ndim, m => new InvalidOperationException(m));
                return data.select(a, index < 0 ? index + data.shape[a] : index);
            });
        }

        return new BinaryKernel((data, indices) =>
        {
            var shape = data.shape;
            long a = TensorValues.NormalizeAxis(axis, shape.Length, m => new InvalidOperationException(m));
            using var asLong = indices.to_type(ScalarType.Int64);
            using var negative = asLong.LessThan(0);
            using var wrapped = asLong.Plus(shape[a]);
            using var normalized = torch.where(negative, wrapped, asLong);
            using var flat = normalized.flatten();
            using var selected = data.index_select(a, flat);
            var target = shape[..(int)a].Concat(indices.shape).Concat(shape[(int)(a + 1)..]).ToArray();
            return selected.reshape(target);
        });
    }

    private static OperatorKernel BuildSlice(NodeContext node)
    {
        Int64sArgument starts, ends, axes, steps;
        if (node.Opset < 10)
        {
            starts = Int64sArgument.FromAttribute(node, "starts");
            ends = Int64sArgument.FromAttribute(node, "ends");
            axes = Int64sArgument.FromAttribute(node, "axes");
            steps = Int64sArgument.FromAttribute(node, "steps");
        }
        else
        {
            starts = Int64sArgument.FromInput(node, 1);
            ends = Int64sArgument.FromInput(node, 2);
            axes = Int64sArgument.FromInput(node, 3);
            steps = Int64sArgument.FromInput(node, 4);
        }

        if (!starts.IsPresent || !ends.IsPresent)
        {
            throw node.Unsupported("starts and ends are required.");
        }

        return new ArgumentKernel(inputs =>
        {
            var x = inputs[0]!;
            var shape = x.shape;
            var s = starts.Read(inputs)!;
            var e = ends.Read(inputs)!;
            var ax = axes.Read(inputs) ?? Enumerable.Range(0, s.Length).Select(i => (long)i).ToArray();
            var st = steps.Read(inputs) ?? Enumerable.Repeat(1L, s.Length).ToArray();
            var result = x.alias();
            for (int i = 0; i < s.Length; i++)
            {
                long axis = TensorValues.NormalizeAxis(ax[i], shape.Length, m => new InvalidOperationException(m));
                using var previous = result;
                result = SliceAxis(previous, axis, shape[axis], s[i], e[i], st[i]);
            }

            return result;
        });
    }

    /// <summary>One axis of ONNX Slice, with its clamping rules for positive and negative steps.</summary>
    private static Tensor SliceAxis(Tensor x, long axis, long dim, long start, long end, long step)
    {
        if (step == 0)
        {
            throw new InvalidOperationException("Slice step must not be 0.");
        }

        if (start < 0)
        {
            start += dim;
        }

        if (end < 0)
        {
            end += dim;
        }

        if (step > 0)
        {
            start = Math.Clamp(start, 0, dim);
            end = Math.Clamp(end, 0, dim);
            return x.slice(axis, start, Math.Max(start, end), step);
        }

        start = Math.Clamp(start, 0, dim - 1);
        end = Math.Clamp(end, -1, dim - 1);
        var indices = new List<long>();
        for (long i = start; i > end; i += step)
        {
            indices.Add(i);
        }

        if (indices.Count == 0)
        {
            return x.slice(axis, 0, 0, 1);
        }

        using var index = TensorValues.Int64Tensor(indices.ToArray(), x.device);
        return x.index_select(axis, index);
    }

    private static OperatorKernel BuildSplit(NodeContext node)
    {
        long axis = node.Int("axis", 0);
        var split = Int64sArgument.FromAttributeOrInput(node, "split", 1, 13);
        int outputs = node.OutputCount;
        long numOutputs = node.Int("num_outputs", outputs);
        if (numOutputs != outputs)
        {
            throw node.Unsupported($"num_outputs={numOutputs} does not match its {outputs} outputs.");
        }

        return new SplitKernel(axis, split, outputs);
    }

    private sealed class SplitKernel(long axis, Int64sArgument split, int count) : OperatorKernel
    {
        public override void Run(ReadOnlySpan<Tensor?> inputs, Span<Tensor?> outputs)
        {
            var x = inputs[0]!;
            long a = TensorValues.NormalizeAxis(axis, x.ndim, m => new InvalidOperationException(m));
            long dim = x.shape[a];
            var sizes = split.Read(inputs);
            if (sizes is null || sizes.Length == 0)
            {
                long chunk = (dim + count - 1) / count;
                sizes = new long[count];
                for (int i = 0; i < count; i++)
                {
                    sizes[i] = Math.Clamp(dim - i * chunk, 0, chunk);
                }
            }

            if (sizes.Length != count || sizes.Sum() != dim)
            {
                throw new InvalidOperationException($"split sizes [{string.Join(",", sizes)}] do not divide a dimension of {dim} into {count} outputs.");
            }

            var parts = x.split(sizes, a);
            for (int i = 0; i < count; i++)
            {
                outputs[i] = parts[i];
            }
        }
    }
}
