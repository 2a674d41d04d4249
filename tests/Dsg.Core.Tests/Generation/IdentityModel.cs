using Dsg.Core.Generation;
using static TorchSharp.torch;

namespace Dsg.Core.Tests.Generation;

/// <summary>
/// A "model" whose only BN layer sees the input itself, so statistics can be written down by hand.
/// Output = per-channel mean (N×C), features = flattened input.
/// </summary>
internal sealed class IdentityModel : IGenerationModel, IDisposable
{
    public IdentityModel(float[] mean, float[] sigma, long height = 1, long width = 2)
    {
        InputShape = [mean.Length, height, width];
        BatchNorms = [new BatchNormTarget("identity", tensor(mean), tensor(sigma))];
    }

    public long[] InputShape { get; }

    public Device Device => CPU;

    public IReadOnlyList<BatchNormTarget> BatchNorms { get; }

    public ModelPass Forward(Tensor input, bool captureBatchNormMoments, bool captureFeatures) =>
        Passes.FromActivations(input.mean([2, 3]), captureBatchNormMoments ? [input] : [], captureFeatures ? input.reshape(input.shape[0], -1) : null);

    public void Dispose()
    {
        foreach (var bn in BatchNorms)
        {
            bn.Dispose();
        }
    }
}
