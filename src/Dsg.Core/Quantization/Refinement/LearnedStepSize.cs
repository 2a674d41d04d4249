using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Quantization.Refinement;

/// <summary>
/// One activation's fake quantization with a learned step size: (clamp(⌊x/s⌉ + z, qmin, qmax) − z)·s, the rounding's
/// gradient passed straight through, z fixed at the calibrated zero point; s is learned with Adam at a rate
/// proportional to its calibrated value (<see cref="BlockReconstruction.RelativeScaleLearningRate"/>).
/// </summary>
internal sealed class LearnedStepSize : IDisposable
{
    private readonly TorchSharp.Modules.Parameter _scale;
    private readonly Tensor _calibratedScale;
    private readonly Scalar _zero;
    private readonly Scalar _qmin;
    private readonly Scalar _qmax;
    private readonly Scalar _smallest;
    private readonly float _smallestScale;
    private readonly AdamState _adam;

    public LearnedStepSize(ActivationCalibration site)
    {
        Tensor = site.Site.Tensor;
        Calibrated = site.Params;
        _calibratedScale = torch.tensor(site.Params.Scale).DetachFromDisposeScope();
        _scale = new TorchSharp.Modules.Parameter(torch.tensor(site.Params.Scale), requires_grad: true);
        _scale.DetachFromDisposeScope();
        _zero = ((double)site.Params.ZeroPoint).ToScalar();
        _qmin = ((double)site.Params.Grid.QMin).ToScalar();
        _qmax = ((double)site.Params.Grid.QMax).ToScalar();
        _smallestScale = site.Params.Scale * 1e-3f;
        _smallest = ((double)_smallestScale).ToScalar();
        _adam = new AdamState(_scale, BlockReconstruction.RelativeScaleLearningRate * site.Params.Scale);
    }

    public string Tensor { get; }

    public QuantParams Calibrated { get; }

    /// <summary>The quantized <paramref name="x"/> (with <paramref name="generator"/>: each value kept unquantized with probability <paramref name="drop"/>).</summary>
    public Tensor Apply(Tensor x, bool learned, Generator? generator, Scalar? drop)
    {
        using var scope = NewDisposeScope();
        var s = learned ? _scale.clamp_min(_smallest) : _calibratedScale;
        var u = x.div(s);
        var rounded = u.Plus(u.round().sub(u).detach());
        var y = rounded.add(_zero, TensorArithmetic.One).clamp(_qmin, _qmax).sub(_zero).mul(s);
        if (generator is not null && drop is not null)
        {
            var keep = torch.rand(x.shape, generator: generator, dtype: x.dtype, device: x.device).lt(drop);
            y = torch.where(keep, x, y);
        }

        return y.MoveToOuterDisposeScope();
    }

    public QuantParams LearnedParams() => Calibrated with { Scale = Math.Max(_scale.item<float>(), _smallestScale) };

    public void Step()
    {
        if (_scale.grad is not null)
        {
            _adam.Step();
        }
    }

    public void Dispose()
    {
        _adam.Dispose();
        _scale.Dispose();
        _calibratedScale.Dispose();
        foreach (var scalar in new[] { _zero, _qmin, _qmax, _smallest })
        {
            scalar.Dispose();
        }
    }
}
