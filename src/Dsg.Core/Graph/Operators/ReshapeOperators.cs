using Dsg.Core.Graph.Execution;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Operators;

/// <summary>Reshape (0 copies a dimension unless allowzero, -1 is inferred), Unsqueeze and Squeeze (axes as attribute or input).</summary>
internal static class ReshapeOperators
{
    /// <summary>The entries.</summary>
    public static IEnumerable<IOperator> All()
    {
        yield return new Operator("Reshape", node =>
        {
            var shape = Int64sArgument.FromAttributeOrInput(node, "shape", 1, 5);
            if (!shape.IsPresent)
            {
                throw node.Unsupported("the target shape is missing.");
            }

            bool allowZero = node.Int("allowzero", 0) != 0;
            return new ArgumentKernel(inputs =>
            {
                var x = inputs[0]!;
                var requested = shape.Read(inputs)!;
                var target = (long[])requested.Clone();
                if (!allowZero)
                {
                    var current = x.shape;
                    for (int i = 0; i < target.Length; i++)
                    {
                        if (target[i] == 0)
                        {
                            target[i] = current[i];
                        }
                    }
                }

                return x.reshape(target);
            });
        });
        yield return new Operator("Unsqueeze", node =>
        {
            var axes = Int64sArgument.FromAttributeOrInput(node, "axes", 1, 13);
            return new ArgumentKernel(inputs =>
            {
                var x = inputs[0]!;
                var shape = x.shape;
                var requested = axes.Read(inputs) ?? throw new InvalidOperationException("axes are missing.");
                int rank = shape.Length + requested.Length;
                var isNew = new bool[rank];
                foreach (var axis in requested)
                {
                    isNew[TensorValues.NormalizeAxis(axis, rank, m => new InvalidOperationException(m))] = true;
                }

                var target = new long[rank];
                for (int i = 0, j = 0; i < rank; i++)
                {
                    target[i] = isNew[i] ? 1 : shape[j++];
                }

                return x.reshape(target);
            });
        });
        yield return new Operator("Squeeze", node =>
        {
            var axes = Int64sArgument.FromAttributeOrInput(node, "axes", 1, 13);
            return new ArgumentKernel(inputs =>
            {
                var x = inputs[0]!;
                var shape = x.shape;
                var requested = axes.Read(inputs);
                var drop = new bool[shape.Length];
                if (requested is null || requested.Length == 0)
                {
                    for (int i = 0; i < shape.Length; i++)
                    {
                        drop[i] = shape[i] == 1;
                    }
                }
                else
                {
                    foreach (var axis in requested)
                    {
                        long a = TensorValues.NormalizeAxis(axis, shape.Length, m => new InvalidOperationException(m));
                        if (shape[a] != 1)
                        {
                            throw new InvalidOperationException($"cannot squeeze axis {axis} of size {shape[a]}.");
                        }

                        drop[a] = true;
                    }
                }

                return x.reshape(shape.Where((_, i) => !drop[i]).ToArray());
            });
        });
    }
}
