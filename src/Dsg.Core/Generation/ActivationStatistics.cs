using Dsg.Core.Graph.Execution;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Generation;

/// <summary>Mean and standard deviation of an activation, per sample or per batch, as the BN losses and the metrics use them.</summary>
internal static class ActivationStatistics
{
    /// <summary>Added to the variance before the square root, so σ̃ has a gradient at zero variance.</summary>
    public const double VarianceFloor = 1e-6;

    /// <summary>
    /// Per-sample statistics of an N×C×H×W activation: μ̃[n,c] = mean over (h, w), σ̃[n,c] = sqrt(var over (h, w) + 1e-6),
    /// the variance being the population one (divided by H·W). Activations of rank 2 (N×C) count as H = W = 1.
    /// </summary>
    public static (Tensor Mean, Tensor Std) PerSample(Tensor activation) => PerSample(Moments(activation));

    /// <summary>The per-sample statistics of <see cref="PerSample(Tensor)"/> from the activation's <see cref="Moments"/>.</summary>
    public static (Tensor Mean, Tensor Std) PerSample((Tensor Mean, Tensor Variance) moments)
    {
        var (mean, variance) = moments;
        using var floor = VarianceFloor.ToScalar();
        return (mean, variance.add(floor, TensorArithmetic.One).sqrt());
    }

    /// <summary>Batch statistics of an N×C×H×W activation (ZeroQ): mean and sqrt(var + 1e-6) over (n, h, w), both [C].</summary>
    /// <remarks>Derived from the per-sample moments (every sample has the same number of positions):
    /// mean = E_n[μ̃], var = E_n[σ̃² + μ̃²] − mean².</remarks>
    public static (Tensor Mean, Tensor Std) PerBatch(Tensor activation) => PerBatch(Moments(activation));

    /// <summary>The batch statistics of <see cref="PerBatch(Tensor)"/> from the activation's per-sample <see cref="Moments"/>.</summary>
    public static (Tensor Mean, Tensor Std) PerBatch((Tensor Mean, Tensor Variance) moments)
    {
        var (sampleMean, sampleVariance) = moments;
        var mean = sampleMean.mean([0]);
        using var zero = 0.0.ToScalar();
        using var floor = VarianceFloor.ToScalar();
        var variance = (sampleVariance.Plus(sampleMean.Squared()).mean([0]) - mean.Squared()).clamp_min(zero);
        return (mean, variance.add(floor, TensorArithmetic.One).sqrt());
    }

    /// <summary>
    /// Per-sample, per-channel mean and population variance over the positions of an N×C×… activation, from the mean
    /// and the mean square (<see cref="ChannelMoments.Of"/>): var = E[x²] − E[x]² (<see cref="FromRawMoments"/>).
    /// </summary>
    internal static (Tensor Mean, Tensor Variance) Moments(Tensor activation) => FromRawMoments(ChannelMoments.Of(activation));

    /// <summary>Mean and population variance from E[x] and E[x²]: var = E[x²] − E[x]², clamped at 0 against rounding.</summary>
    internal static (Tensor Mean, Tensor Variance) FromRawMoments((Tensor Mean, Tensor MeanSquare) moments)
    {
        var (mean, meanSquare) = moments;
        // Every scalar handed to libtorch is held here: TorchSharp's implicit Scalars (tensor / double, clamp_min(0)) are
        // temporaries nothing keeps alive while libtorch reads them, and a collection in between fails the call
        // ("Unknown scalar type", seen once in CI in this method).
        using var zero = 0.0.ToScalar();
        var variance = meanSquare.sub(mean.Squared()).clamp_min(zero);
        return (mean, variance);
    }
}
