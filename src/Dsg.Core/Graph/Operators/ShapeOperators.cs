using Dsg.Core.Graph.Execution;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Operators;

/// <summary>Operators that only rearrange or describe shapes: Shape, Size, Flatten, Transpose, Concat, Expand, Tile.</summary>
internal static class ShapeOperators
{
    /// <summary>The entries.</summary>
    public static IEnumerable<IOperator> All()
    {
        yield return new Operator("Shape", node =>
        {
            long start = node.Int("start", 0);
            long? end = node.HasAttribute("end") ? node.Int("end", 0) : null;
            var device = node.Device;
            return new UnaryKernel(x =>
            {
                var shape = x.shape;
                long rank = shape.Length;
                long s = Math.Clamp(start < 0 ? start + rank : start, 0, rank);
                long e = end is long v ? Math.Clamp(v < 0 ? v + rank : v, 0, rank) : rank;
                return TensorValues.Int64Tensor(shape[(int)s..(int)Math.Max(s, e)], device);
            });
        });
        yield return new Operator("Size", node =>
        {
            var device = node.Device;
            return new UnaryKernel(x => torch.tensor(x.numel(), ScalarType.Int64, device));
        });
        yield return new Operator("Flatten", node =>
        {
            long axis = node.Int("axis", 1);
            return new UnaryKernel(x =>
            {
                var shape = x.shape;
                long a = axis < 0 ? axis + shape.Length : axis;
                if (a < 0 || a > shape.Length)
                {
                    throw new InvalidOperationException($"axis {axis} is out of range for rank {shape.Length}.");
                }

                long outer = TensorValues.Product(shape.AsSpan(0, (int)a));
                return x.reshape(outer, TensorValues.Product(shape.AsSpan((int)a)));
            });
        });
        yield return new Operator("Transpose", node =>
        {
            var perm = node.Ints("perm");
            return new UnaryKernel(x => x.permute(perm ?? Enumerable.Range(0, (int)x.ndim).Reverse().Select(i => (long)i).ToArray()));
        });
        yield return new Operator("Concat", node =>
        {
            long axis = node.Int("axis", node.Opset < 4 ? 1 : long.MinValue);
            if (axis == long.MinValue)
            {
                throw node.Unsupported("the axis attribute is required.");
            }

            return new ConcatKernel(axis);
        });
        yield return new Operator("Expand", node =>
        {
            var constantShape = node.ConstantInt64s(1);
            return new BinaryKernel((x, shapeTensor) => Expand(x, constantShape ?? TensorValues.ToInt64s(shapeTensor)));
        });
        yield return new Operator("Tile", node =>
        {
            var constantRepeats = node.ConstantInt64s(1);
            return new BinaryKernel((x, repeats) => x.tile(constantRepeats ?? TensorValues.ToInt64s(repeats)));
        });
    }

    /// <summary>ONNX Expand: bidirectional broadcast of x with the requested shape.</summary>
    private static Tensor Expand(Tensor x, long[] requested)
    {
        var shape = x.shape;
        int rank = Math.Max(shape.Length, requested.Length);
        var target = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long a = i - (rank - shape.Length) >= 0 ? shape[i - (rank - shape.Length)] : 1;
            long b = i - (rank - requested.Length) >= 0 ? requested[i - (rank - requested.Length)] : 1;
            target[i] = a == 1 ? b : a;
        }

        return x.expand(target).contiguous();
    }

    private sealed class ConcatKernel(long axis) : SingleOutputKernel
    {
        protected override Tensor Compute(ReadOnlySpan<Tensor?> inputs)
        {
            var list = new Tensor[inputs.Length];
            for (int i = 0; i < list.Length; i++)
            {
                list[i] = inputs[i]!;
            }

            return torch.cat(list, TensorValues.NormalizeAxis(axis, list[0].ndim, m => new InvalidOperationException(m)));
        }
    }
}
