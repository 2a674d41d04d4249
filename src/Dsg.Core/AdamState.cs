using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core;

/// <summary>
/// Adam (β1 0.9, β2 0.999, ε 1e-8), or Rectified Adam, on one parameter, with every Scalar it hands libtorch held until
/// libtorch has read it. TorchSharp's own optimisers pass temporary Scalars (<c>add_(grad, alpha: 1 - β1)</c>) that a
/// collection on another thread may finalize mid-call (see <see cref="TensorArithmetic"/>); its RAdam also multiplies
/// the learning rate in twice once the variance is rectified.
/// </summary>
internal sealed class AdamState : IDisposable
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;

    /// <summary>ρ∞ of Rectified Adam: the length of the approximated simple moving average.</summary>
    private const double RhoInfinity = (2 / (1 - Beta2)) - 1;

    private readonly TorchSharp.Modules.Parameter _parameter;
    private readonly bool _rectified;
    private readonly Tensor _m;
    private readonly Tensor _v;
    private readonly Scalar _beta1 = Beta1.ToScalar(), _oneMinusBeta1 = (1 - Beta1).ToScalar();
    private readonly Scalar _beta2 = Beta2.ToScalar(), _oneMinusBeta2 = (1 - Beta2).ToScalar();
    private readonly Scalar _epsilon = Epsilon.ToScalar();
    private int _t;

    /// <param name="parameter">The parameter it updates from its gradient.</param>
    /// <param name="learningRate">The starting learning rate.</param>
    /// <param name="rectified">Rectified Adam (Liu et al. 2020, as PyTorch's <c>RAdam</c>): plain momentum steps while the
    /// variance estimate is too short to trust (ρ_t ≤ 5), then Adam steps scaled by the rectification term.</param>
    public AdamState(TorchSharp.Modules.Parameter parameter, double learningRate, bool rectified = false)
    {
        _parameter = parameter;
        _rectified = rectified;
        LearningRate = learningRate;
        _m = torch.zeros_like(parameter).DetachFromDisposeScope();
        _v = torch.zeros_like(parameter).DetachFromDisposeScope();
    }

    /// <summary>The learning rate of the next step (a schedule may change it between steps).</summary>
    public double LearningRate { get; set; }

    public void Dispose()
    {
        _m.Dispose();
        _v.Dispose();
        foreach (var scalar in new[] { _beta1, _oneMinusBeta1, _beta2, _oneMinusBeta2, _epsilon })
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
        var grad = _parameter.grad ?? throw new InvalidOperationException("The parameter has no gradient.");
        _m.mul_(_beta1).add_(grad, _oneMinusBeta1);
        _v.mul_(_beta2).addcmul_(grad, grad, _oneMinusBeta2);
        double correction1 = 1 - Math.Pow(Beta1, _t);
        double correction2 = 1 - Math.Pow(Beta2, _t);
        double rho = RhoInfinity - (2 * _t * Math.Pow(Beta2, _t) / correction2);
        if (_rectified && rho <= 5)
        {
            // The variance estimate is too short: a bias-corrected momentum step.
            using var momentumStep = (-LearningRate / correction1).ToScalar();
            _parameter.add_(_m, momentumStep);
        }
        else
        {
            double rectification = _rectified
                ? Math.Sqrt((rho - 4) * (rho - 2) * RhoInfinity / ((RhoInfinity - 4) * (RhoInfinity - 2) * rho))
                : 1;
            using var sqrtCorrection2 = Math.Sqrt(correction2).ToScalar();
            using var stepSize = (-LearningRate * rectification / correction1).ToScalar();
            var denominator = _v.sqrt().div_(sqrtCorrection2).add_(_epsilon, TensorArithmetic.One);
            _parameter.addcdiv_(_m, denominator, stepSize);
        }

        grad.zero_();
    }
}
