using Dsg.Core.Generation;
using static TorchSharp.torch;

namespace Dsg.Core.Tests.Generation;

/// <summary>Model passes for the hand-written test models, whose BN moments are taken from the activations they capture.</summary>
internal static class Passes
{
    public static ModelPass FromActivations(Tensor output, IReadOnlyList<Tensor> batchNormInputs, Tensor? features) =>
        new(output, batchNormInputs.Select(ActivationStatistics.Moments).ToList(), features);
}
