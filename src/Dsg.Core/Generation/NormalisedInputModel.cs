using Dsg.Core.Graph;
using static TorchSharp.torch;

namespace Dsg.Core.Generation;

/// <summary>
/// A model seen from the normalised space of its input convention: it takes z and feeds the model
/// x = m + s·z per channel. The generator optimises z with terms written for N(0, 1) inputs (initial noise, input
/// statistics, priors, SCI, margins), so every one of them follows the convention, and returns x. With a declared
/// range the bounds of z are (min − m)/s and (max − m)/s per channel.
/// </summary>
internal sealed class NormalisedInputModel : IGenerationModel, IDisposable
{
    private readonly IGenerationModel _model;
    private readonly Tensor _mean;
    private readonly Tensor _std;
    private readonly Tensor? _lower;
    private readonly Tensor? _upper;

    /// <summary>Wraps <paramref name="model"/>; DSG0301 when the convention does not fit its input channels.</summary>
    public NormalisedInputModel(IGenerationModel model, InputConvention convention)
    {
        _model = model;
        int channels = (int)model.InputShape[0];
        Convention = convention.ForChannels(channels);
        var mean = Convention.Mean.ToArray();
        var std = Convention.Std.ToArray();
        _mean = ChannelTensor(mean, model.Device);
        _std = ChannelTensor(std, model.Device);
        if (Convention.Range is { } range)
        {
            _lower = ChannelTensor(mean.Select((m, c) => (range.Min - m) / std[c]).ToArray(), model.Device);
            _upper = ChannelTensor(mean.Select((m, c) => (range.Max - m) / std[c]).ToArray(), model.Device);
        }
    }

    /// <summary>The convention, one value per channel.</summary>
    public InputConvention Convention { get; }

    public long[] InputShape => _model.InputShape;

    public Device Device => _model.Device;

    public IReadOnlyList<BatchNormTarget> BatchNorms => _model.BatchNorms;

    public ModelPass Forward(Tensor input, bool captureBatchNormMoments, bool captureFeatures) =>
        _model.Forward(ToModelSpace(input), captureBatchNormMoments, captureFeatures);

    /// <summary>x = m + s·z (differentiable; the caller's scope owns the result).</summary>
    public Tensor ToModelSpace(Tensor z) => (z * _std).Plus(_mean);

    /// <summary>z = (x − m)/s (the caller's scope owns the result).</summary>
    public Tensor ToNormalised(Tensor x) => (x - _mean.to(x.device)) / _std.to(x.device);

    /// <summary>(x − m)/s written over <paramref name="x"/> (no copy: at 224×224 a sample set is hundreds of MB).</summary>
    public Tensor NormaliseInPlace(Tensor x) => x.sub_(_mean.to(x.device)).div_(_std.to(x.device));

    /// <summary>x for the output: m + s·z, clamped into the declared range.</summary>
    public Tensor ToSamples(Tensor z)
    {
        var x = ToModelSpace(z.detach());
        return Convention.Range is { } range ? x.Between(range.Min, range.Max) : x;
    }

    /// <summary>Moves z into the bounds of the declared range, in place and outside autograd (nothing without a range).</summary>
    public void Project(Tensor z)
    {
        if (_lower is null || _upper is null)
        {
            return;
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        z.copy_(z.maximum(_lower).minimum(_upper));
    }

    /// <summary>A 1×C×1×1 float32 tensor on <paramref name="device"/>, outside every dispose scope (this model owns it).</summary>
    private static Tensor ChannelTensor(double[] values, Device device)
    {
        using var scope = NewDisposeScope();
        var floats = values.Select(v => (float)v).ToArray();
        return tensor(floats, [1, floats.Length, 1, 1], device: device).DetachFromDisposeScope();
    }

    public void Dispose()
    {
        _mean.Dispose();
        _std.Dispose();
        _lower?.Dispose();
        _upper?.Dispose();
    }
}
