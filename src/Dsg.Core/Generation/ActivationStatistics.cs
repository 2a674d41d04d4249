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
    /// and the mean square: var = E[x²] − E[x]² (clamped at 0 against rounding). Both come from <see cref="ChannelMoments"/>,
    /// whose backward is one fused pass over the activation (∂/∂x = a + b·x per sample and channel).
    /// </summary>
    internal static (Tensor Mean, Tensor Variance) Moments(Tensor activation)
    {
        var flat = activation.reshape(activation.shape[0], activation.shape[1], -1);
        var moments = ChannelMoments.apply(flat);
        var (mean, meanSquare) = (moments[0], moments[1]);
        // Every scalar handed to libtorch is held here: TorchSharp's implicit Scalars (tensor / double, clamp_min(0)) are
        // temporaries nothing keeps alive while libtorch reads them, and a collection in between fails the call
        // ("Unknown scalar type", seen once in CI in this method).
        using var zero = 0.0.ToScalar();
        var variance = meanSquare.sub(mean.Squared()).clamp_min(zero);
        return (mean, variance);
    }

    /// <summary>
    /// E[x] and E[x²] over the last axis of an N×C×P tensor, with a hand-written backward. What autograd makes of the
    /// same sums (a sum's expanded gradient, a norm's x·g/‖x‖, and the addition of the two) writes and reads two full
    /// copies of every BatchNorm input; the gradient of both moments is the affine map g_μ/P + (2·g_{μ²}/P)·x per sample
    /// and channel, one <c>addcmul</c> over the input.
    /// </summary>
    /// <remarks>
    /// The forward takes the sum and the Euclidean norm (one read each): libtorch's CPU <c>var_mean</c> (a Welford
    /// reduction) was about 3× slower, and summing a materialised square costs a second copy of the activation.
    /// </remarks>
    internal sealed class ChannelMoments : torch.autograd.MultiTensorFunction<ChannelMoments>
    {
        public override string Name => nameof(ChannelMoments);

        public override List<Tensor> forward(torch.autograd.AutogradContext ctx, params object[] vars)
        {
            var flat = (Tensor)vars[0];
            ctx.save_for_backward([flat]);
            using var positions = ((double)flat.shape[2]).ToScalar();
            // Tensor.norm passes the order as a float; linalg.vector_norm would pass it as a Scalar nothing keeps alive.
            using var norm = flat.norm(2, keepdim: false, p: 2f);
            using var sum = flat.sum(2);
            using var sumOfSquares = norm.Squared();
            return [sum.div(positions), sumOfSquares.div(positions)];
        }

        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, List<Tensor> gradients)
        {
            using var flat = ctx.get_saved_variables()[0];
            double positions = flat.shape[2];
            using var offset = gradients[0].DividedBy(positions).unsqueeze(2);
            using var slope = gradients[1].Times(2 / positions).unsqueeze(2);
            return [torch.addcmul(offset, flat, slope, TensorArithmetic.One)];
        }
    }
}
