using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Generation;

/// <summary>
/// Per-sample, per-channel mean and population variance over the spatial positions of an N×C×… activation, with a
/// hand-written backward. libtorch's CPU <c>var_mean</c> (a Welford reduction) and its autograd formula (several
/// element-wise passes) made these statistics the largest cost of a generation iteration; here the forward is two
/// plain sums (Σx, Σx²) and the backward one fused pass, ∂L/∂x = x·(2g_v/n) + (g_m − 2g_v·m)/n
/// (docs/performance.md has the measurement).
/// </summary>
internal sealed class ChannelMoments : autograd.MultiTensorFunction<ChannelMoments>
{
    public override string Name => "DsgChannelMoments";

    /// <summary>(mean, variance), both N×C, of <paramref name="activation"/> (rank ≥ 2; rank 2 counts as one position).</summary>
    public static (Tensor Mean, Tensor Variance) Compute(Tensor activation)
    {
        if (!activation.requires_grad || !is_grad_enabled())
        {
            return Moments(activation);
        }

        var outputs = apply(activation);
        return (outputs[0], outputs[1]);
    }

    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var activation = (Tensor)vars[0];
        using var noGrad = no_grad();
        var (mean, variance) = Moments(activation);
        ctx.save_for_backward([activation, mean]);
        return [mean, variance];
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grads)
    {
        var saved = ctx.get_saved_variables();
        var activation = saved[0];
        var mean = saved[1];
        double positions = Positions(activation);
        var gradMean = grads[0];
        var gradVariance = grads[1];
        var broadcast = BroadcastShape(activation);
        var slope = (gradVariance * (2.0 / positions)).reshape(broadcast);
        var offset = ((gradMean / positions) - (gradVariance * mean * (2.0 / positions))).reshape(broadcast);
        return [addcmul(offset, activation, slope, 1)];
    }

    private static (Tensor Mean, Tensor Variance) Moments(Tensor activation)
    {
        using var scope = NewDisposeScope();
        var flat = activation.reshape(activation.shape[0], activation.shape[1], -1);
        double positions = flat.shape[2];
        var mean = flat.sum(2) / positions;
        // E[x²] − E[x]², clamped at 0 against rounding; the sums run in float32 as the activations do.
        var variance = ((flat.square().sum(2) / positions) - mean.square()).clamp_min(0);
        return scope.MoveToOuter(mean, variance);
    }

    private static double Positions(Tensor activation) => activation.numel() / (double)(activation.shape[0] * activation.shape[1]);

    private static long[] BroadcastShape(Tensor activation)
    {
        var shape = new long[activation.ndim];
        Array.Fill(shape, 1L);
        shape[0] = activation.shape[0];
        shape[1] = activation.shape[1];
        return shape;
    }
}
