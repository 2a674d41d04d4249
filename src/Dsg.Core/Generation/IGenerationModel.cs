using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Generation;

/// <summary>
/// What the generator needs from a differentiable model: its input shape, device, BatchNorm targets and a forward
/// pass that hands back the BatchNorm inputs and penultimate features. <c>TorchGraph</c> is adapted to it; tests
/// may implement it with a tiny TorchSharp model.
/// </summary>
internal interface IGenerationModel
{
    /// <summary>C, H, W of one sample.</summary>
    long[] InputShape { get; }

    /// <summary>Where the model's tensors live.</summary>
    Device Device { get; }

    /// <summary>Running statistics of every BatchNorm layer, in graph order.</summary>
    IReadOnlyList<BatchNormTarget> BatchNorms { get; }

    /// <summary>Runs the model; tensors belong to the caller's dispose scope.</summary>
    ModelPass Forward(Tensor input, bool captureBatchNormMoments, bool captureFeatures);
}
