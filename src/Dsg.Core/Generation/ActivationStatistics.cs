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
    public static (Tensor Mean, Tensor Std) PerSample(Tensor activation)
    {
        var (mean, variance) = Moments(activation);
        using var floor = VarianceFloor.ToScalar();
        return (mean, variance.add(floor, TensorArithmetic.One).sqrt());
    }

    /// <summary>Batch statistics of an N×C×H×W activation (ZeroQ): mean and sqrt(var + 1e-6) over (n, h, w), both [C].</summary>
    /// <remarks>Derived from the per-sample moments (every sample has the same number of positions):
    /// mean = E_n[μ̃], var = E_n[σ̃² + μ̃²] − mean².</remarks>
    public static (Tensor Mean, Tensor Std) PerBatch(Tensor activation)
    {
        var (sampleMean, sampleVariance) = Moments(activation);
        var mean = sampleMean.mean([0]);
        using var zero = 0.0.ToScalar();
        using var floor = VarianceFloor.ToScalar();
        var variance = (sampleVariance.Plus(sampleMean.Squared()).mean([0]) - mean.Squared()).clamp_min(zero);
        return (mean, variance.add(floor, TensorArithmetic.One).sqrt());
    }

    /// <summary>
    /// Per-sample, per-channel mean and population variance over the positions of an N×C×… activation, from the plain
    /// sum and the Euclidean norm: var = ‖x‖²/P − E[x]² (clamped at 0 against rounding). The norm reads the activation
    /// once and its backward is one pass (x·g/‖x‖); summing materialised squares instead cost a second copy of every
    /// BatchNorm input and a two-operand product backward (ResNet-18 at 224×224, batch 32: 1,743 → 1,626 ms a DSG step
    /// in an interleaved A/B, docs/performance.md).
    /// libtorch's CPU <c>var_mean</c> (a Welford reduction) and its backward were slower still, about 3× the sums.
    /// </summary>
    internal static (Tensor Mean, Tensor Variance) Moments(Tensor activation)
    {
        var flat = activation.reshape(activation.shape[0], activation.shape[1], -1);
        // Every scalar handed to libtorch is held here: TorchSharp's implicit Scalars (tensor / double, clamp_min(0)) are
        // temporaries nothing keeps alive while libtorch reads them, and a collection in between fails the call
        // ("Unknown scalar type", seen once in CI in this method).
        using var positions = ((double)flat.shape[2]).ToScalar();
        using var zero = 0.0.ToScalar();
        var mean = flat.sum(2).div(positions);
        // Tensor.norm passes the order as a float; linalg.vector_norm would pass it as a Scalar nothing keeps alive.
        var norm = flat.norm(2, keepdim: false, p: 2f);
        var variance = norm.Squared().div(positions).sub(mean.Squared()).clamp_min(zero);
        return (mean, variance);
    }
}
