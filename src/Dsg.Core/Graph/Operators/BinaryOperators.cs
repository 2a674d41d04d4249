using Dsg.Core.Graph.Execution;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Operators;

/// <summary>Two-input element-wise operators with numpy broadcasting, and the variadic Sum/Mean/Max/Min.</summary>
internal static class BinaryOperators
{
    /// <summary>The entries.</summary>
    public static IEnumerable<IOperator> All()
    {
        yield return Binary("Add", (a, b) => a.Plus(b));
        yield return Binary("Sub", (a, b) => a.sub(b));
        yield return Binary("Mul", (a, b) => a.mul(b));
        yield return Binary("Div", (a, b) => TensorValues.IsFloating(a.dtype) ? a.div(b) : a.div(b, RoundingMode.trunc));
        yield return Binary("Pow", (a, b) => a.pow(b));
        yield return Binary("Equal", (a, b) => a.eq(b));
        yield return Binary("Less", (a, b) => a.lt(b));
        yield return Binary("LessOrEqual", (a, b) => a.le(b));
        yield return Binary("Greater", (a, b) => a.gt(b));
        yield return Binary("GreaterOrEqual", (a, b) => a.ge(b));
        yield return Variadic("Sum", (a, b) => a.Plus(b), null);
        yield return Variadic("Mean", (a, b) => a.Plus(b), (sum, count) => sum.DividedBy((double)count));
        yield return Variadic("Max", (a, b) => a.maximum(b), null);
        yield return Variadic("Min", (a, b) => a.minimum(b), null);
        yield return new Operator("Where", _ => new WhereKernel());
    }

    private static IOperator Binary(string opType, Func<Tensor, Tensor, Tensor> function) =>
        new Operator(opType, node =>
        {
            if (node.Opset < 7 && node.Int("broadcast", 0) != 0 && node.HasAttribute("axis"))
            {
                throw node.Unsupported("legacy broadcast with an explicit axis (opset < 7) is not supported.");
            }

            return new BinaryKernel(function);
        });

    private static IOperator Variadic(string opType, Func<Tensor, Tensor, Tensor> combine, Func<Tensor, long, Tensor>? finish) =>
        new Operator(opType, _ => new VariadicKernel(combine, finish));

    private sealed class VariadicKernel(Func<Tensor, Tensor, Tensor> combine, Func<Tensor, long, Tensor>? finish) : SingleOutputKernel
    {
        protected override Tensor Compute(ReadOnlySpan<Tensor?> inputs)
        {
            var result = inputs[0]!.alias();
            for (int i = 1; i < inputs.Length; i++)
            {
                using var previous = result;
                result = combine(previous, inputs[i]!);
            }

            if (finish is null)
            {
                return result;
            }

            using (result)
            {
                return finish(result, inputs.Length);
            }
        }
    }

    private sealed class WhereKernel : SingleOutputKernel
    {
        protected override Tensor Compute(ReadOnlySpan<Tensor?> inputs) => torch.where(inputs[0]!, inputs[1]!, inputs[2]!);
    }
}
