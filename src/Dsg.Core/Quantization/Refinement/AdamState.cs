using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Quantization.Refinement;

/// <summary>
/// Adam (β1 0.9, β2 0.999, ε 1e-8) on one parameter, with every scalar it hands libtorch held for the whole run
/// (TorchSharp's optimiser creates temporary native scalars on each step, which the collector may finalize while
/// libtorch reads them).
/// </summary>
internal sealed class AdamState(TorchSharp.Modules.Parameter parameter, double learningRate) : IDisposable
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;
    private readonly Tensor _m = torch.zeros_like(parameter).DetachFromDisposeScope();
    private readonly Tensor _v = torch.zeros_like(parameter).DetachFromDisposeScope();
    private readonly Scalar _beta1 = Beta1.ToScalar(), _oneMinusBeta1 = (1 - Beta1).ToScalar();
    private readonly Scalar _beta2 = Beta2.ToScalar(), _oneMinusBeta2 = (1 - Beta2).ToScalar();
    private readonly Scalar _epsilon = Epsilon.ToScalar(), _one = 1.0.ToScalar();
    private int _t;

    public void Dispose()
    {
        _m.Dispose();
        _v.Dispose();
        foreach (var scalar in new[] { _beta1, _oneMinusBeta1, _beta2, _oneMinusBeta2, _epsilon, _one })
        {
            scalar.Dispose();
        }
    }

    /// <summary>One update from the parameter's gradient, which it then zeroes.</summary>
    public void Step()
    {
        _t++;
        using var noGrad = torch.no_grad();
        using var scope = NewDisposeScope();
        var grad = parameter.grad ?? throw new InvalidOperationException("The parameter has no gradient.");
        _m.mul_(_beta1).add_(grad, _oneMinusBeta1);
        _v.mul_(_beta2).addcmul_(grad, grad, _oneMinusBeta2);
        using var correction2 = Math.Sqrt(1 - Math.Pow(Beta2, _t)).ToScalar();
        using var stepSize = (-learningRate / (1 - Math.Pow(Beta1, _t))).ToScalar();
        var denominator = _v.sqrt().div_(correction2).add_(_epsilon, _one);
        parameter.addcdiv_(_m, denominator, stepSize);
        grad.zero_();
    }
}
