using Dsg.Core.Graph.Execution;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Operators;

/// <summary>MatMul (numpy matmul semantics) and Softmax / LogSoftmax (opset &lt; 13 coerce to 2-D; opset ≥ 13 one axis).</summary>
internal static class MatrixOperators
{
    /// <summary>The entries.</summary>
    public static IEnumerable<IOperator> All()
    {
        yield return new Operator("MatMul", _ => new BinaryKernel(static (a, b) => a.matmul(b)));
        yield return Softmax("Softmax", static (x, dim) => x.softmax(dim));
        yield return Softmax("LogSoftmax", static (x, dim) => x.log_softmax(dim));
    }

    private static IOperator Softmax(string opType, Func<Tensor, long, Tensor> function) =>
        new Operator(opType, node =>
        {
            bool coerce = node.Opset < 13;
            long axis = node.Int("axis", coerce ? 1 : -1);
            return new UnaryKernel(x =>
            {
                long rank = x.ndim;
                long a = TensorValues.NormalizeAxis(axis, rank, m => new InvalidOperationException(m));
                if (!coerce || a == rank - 1)
                {
                    return function(x, a);
                }

                var shape = x.shape;
                long rows = TensorValues.Product(shape.AsSpan(0, (int)a));
                using var flat = x.reshape(rows, -1);
                using var result = function(flat, 1);
                return result.reshape(shape);
            });
        });
}
