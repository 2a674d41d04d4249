using static TorchSharp.torch;

namespace Dsg.Core.Generation.Losses;

/// <summary>What the loss terms of one iteration can see.</summary>
internal sealed class LossContext
{
    /// <summary>The images being optimised, N×C×H×W (requires grad), normalised by the input convention: z = (x − m)/s.</summary>
    public required Tensor Images { get; init; }

    /// <summary>What went through the model this iteration: <see cref="Images"/>, shifted when jitter is on.</summary>
    public required Tensor ModelInput { get; init; }

    /// <summary>The forward pass of <see cref="ModelInput"/>.</summary>
    public required ModelPass Pass { get; init; }

    /// <summary>The running statistics of every BN layer.</summary>
    public required IReadOnlyList<BatchNormTarget> Targets { get; init; }

    /// <summary>The batch's random labels (null when no term needs them).</summary>
    public Tensor? Labels { get; init; }

    /// <summary>The batch's random generator (for terms that draw fresh noise).</summary>
    public required Generator Generator { get; init; }

    /// <summary>Index of the batch's first sample within the whole run.</summary>
    public long FirstSampleIndex { get; init; }

    /// <summary>
    /// The per-sample, per-channel mean and variance of every BatchNorm input of <see cref="Pass"/>, taken once by the
    /// pass itself (<see cref="ModelPass.BatchNormMoments"/>) and shared by every term that reads them.
    /// </summary>
    public IReadOnlyList<(Tensor Mean, Tensor Variance)> BatchNormMoments => Pass.BatchNormMoments;
}
