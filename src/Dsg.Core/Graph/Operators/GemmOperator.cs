using Dsg.Core.Graph.Execution;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Dsg.Core.Graph.Operators;

/// <summary>
/// Gemm: Y = alpha * A' B' + beta * C (transA, transB, optional C broadcast numpy-style). The classifier form
/// (alpha = beta = 1, constant B, C a vector) runs as one F.linear with B stored as [N, K] once at load.
/// </summary>
internal sealed class GemmOperator : IOperator
{
    public string OpType => "Gemm";

    public OperatorKernel Build(NodeContext node)
    {
        double alpha = node.Float("alpha", 1f);
        double beta = node.Float("beta", 1f);
        bool transA = node.Int("transA", 0) != 0;
        bool transB = node.Int("transB", 0) != 0;
        var b = node.Constant(1);
        var c = node.Constant(2);
        if (alpha == 1 && beta == 1 && !transA && b is not null && b.ndim == 2
            && (!node.HasInput(2) || (c is not null && c.ndim == 1 && c.shape[0] == (transB ? b.shape[0] : b.shape[1]))))
        {
            var weight = transB ? b : node.Own(b.t().contiguous());
            return new LinearKernel(weight, c);
        }

        return new GemmKernel(alpha, beta, transA, transB);
    }

    private sealed class LinearKernel(Tensor weight, Tensor? bias) : SingleOutputKernel
    {
        protected override Tensor Compute(ReadOnlySpan<Tensor?> inputs) => F.linear(inputs[0]!, weight, bias);
    }

    private sealed class GemmKernel(double alpha, double beta, bool transA, bool transB) : SingleOutputKernel
    {
        protected override Tensor Compute(ReadOnlySpan<Tensor?> inputs)
        {
            using var a = transA ? inputs[0]!.t() : inputs[0]!.alias();
            using var b = transB ? inputs[1]!.t() : inputs[1]!.alias();
            var product = a.matmul(b);
            if (alpha != 1)
            {
                using var unscaled = product;
                product = unscaled.Times(alpha);
            }

            var c = inputs.Length > 2 ? inputs[2] : null;
            if (c is null || beta == 0)
            {
                return product;
            }

            using (product)
            {
                if (beta == 1)
                {
                    return product.Plus(c);
                }

                using var scaledC = c.Times(beta);
                return product.Plus(scaledC);
            }
        }
    }
}
