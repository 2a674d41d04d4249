using Dsg.Core.Graph.Execution;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Dsg.Core.Graph.Operators;

/// <summary>Element-wise activations and math functions: one registry entry each.</summary>
internal static class ElementwiseOperators
{
    /// <summary>The entries.</summary>
    public static IEnumerable<IOperator> All()
    {
        yield return Unary("Relu", _ => x => x.relu());
        yield return Unary("Sigmoid", _ => x => x.sigmoid());
        yield return Unary("Tanh", _ => x => x.tanh());
        yield return Unary("HardSwish", _ => x => F.hardswish(x));
        yield return Unary("LeakyRelu", n =>
        {
            double alpha = n.Float("alpha", 0.01f);
            return x =>
            {
                using var slope = alpha.ToScalar();
                return x.leaky_relu(slope);
            };
        });
        yield return Unary("HardSigmoid", n =>
        {
            double alpha = n.Float("alpha", 0.2f);
            double beta = n.Float("beta", 0.5f);
            return x =>
            {
                using var scaled = x.Times(alpha);
                using var shifted = scaled.Plus(beta);
                return shifted.Between(0.0, 1.0);
            };
        });
        yield return Unary("Elu", n =>
        {
            double alpha = n.Float("alpha", 1f);
            return x =>
            {
                using var a = alpha.ToScalar();
                return x.elu(a, TensorArithmetic.One, TensorArithmetic.One);
            };
        });
        yield return Unary("Selu", n =>
        {
            double alpha = n.Float("alpha", 1.67326319217681884765625f);
            double gamma = n.Float("gamma", 1.05070102214813232421875f);
            return x =>
            {
                using var a = alpha.ToScalar();
                using var scale = gamma.ToScalar();
                return x.elu(a, scale, TensorArithmetic.One);
            };
        });
        // ln(1 + eˣ) as max(x, 0) + ln(1 + e^−|x|): exact, never overflows, and needs no Scalar (TorchSharp's softplus
        // passes two temporary ones).
        yield return Unary("Softplus", _ => x =>
        {
            using var positive = x.relu();
            using var magnitude = x.abs();
            using var negated = magnitude.neg();
            using var exponential = negated.exp();
            using var logarithm = exponential.log1p();
            return positive.Plus(logarithm);
        });
        yield return Unary("Abs", _ => x => x.abs());
        yield return Unary("Neg", _ => x => x.neg());
        yield return Unary("Exp", _ => x => x.exp());
        yield return Unary("Log", _ => x => x.log());
        yield return Unary("Sqrt", _ => x => x.sqrt());
        yield return Unary("Reciprocal", _ => x => x.reciprocal());
        yield return Unary("Floor", _ => x => x.floor());
        yield return Unary("Ceil", _ => x => x.ceil());
        yield return Unary("Erf", _ => x => x.erf());
        yield return Unary("Sign", _ => x => x.sign());
        yield return Unary("Not", _ => x => x.logical_not());
        yield return Unary("Identity", _ => x => x.alias());
    }

    /// <summary>An operator whose kernel applies a function (configured from the node's attributes) to input 0.</summary>
    public static IOperator Unary(string opType, Func<NodeContext, Func<Tensor, Tensor>> configure) =>
        new Operator(opType, node => new UnaryKernel(configure(node)));
}
