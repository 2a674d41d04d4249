using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Execution;

/// <summary>
/// E[x] and E[x²] over the last axis of an N×C×P tensor, with a hand-written backward. What autograd makes of the
/// same sums (a sum's expanded gradient, a norm's x·g/‖x‖, and the addition of the two) writes and reads two full
/// copies of every BatchNorm input; the gradient of both moments is the affine map g_μ/P + (2·g_{μ²}/P)·x per sample
/// and channel, one <c>addcmul</c> over the input.
/// </summary>
/// <remarks>
/// The forward reads the activation once where <see cref="ChannelMomentKernels.Applies"/> (contiguous float32 on the
/// CPU); elsewhere it takes libtorch's sum and Euclidean norm (one read each): libtorch's CPU <c>var_mean</c> (a
/// Welford reduction) was about 3× slower, and summing a materialised square costs a second copy of the activation.
/// </remarks>
internal sealed class ChannelMoments : torch.autograd.MultiTensorFunction<ChannelMoments>
{
    public override string Name => nameof(ChannelMoments);

    /// <summary>
    /// Per-sample, per-channel E[x] and E[x²] over the positions of an N×C×… activation, both N×C (the activation
    /// viewed as N×C×P).
    /// </summary>
    public static (Tensor Mean, Tensor MeanSquare) Of(Tensor activation)
    {
        var flat = activation.reshape(activation.shape[0], activation.shape[1], -1);
        var moments = apply(flat);
        return (moments[0], moments[1]);
    }

    public override List<Tensor> forward(torch.autograd.AutogradContext ctx, params object[] vars)
    {
        var flat = (Tensor)vars[0];
        // A moment nothing reads gets no gradient, rather than zeros from a cache that lives only as long as the forward's scope.
        ctx.set_materialize_grads(false);
        ctx.save_for_backward([flat]);
        if (ChannelMomentKernels.Applies(flat))
        {
            var mean = torch.empty([flat.shape[0], flat.shape[1]], ScalarType.Float32);
            var meanSquare = torch.empty([flat.shape[0], flat.shape[1]], ScalarType.Float32);
            ChannelMomentKernels.Forward(flat, mean, meanSquare);
            return [mean, meanSquare];
        }

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
        using var offset = Defined(gradients[0]) is { } meanGradient ? meanGradient.DividedBy(positions).unsqueeze(2) : torch.zeros(1, flat.dtype, flat.device);
        if (Defined(gradients[1]) is not { } squareGradient)
        {
            return [offset.expand_as(flat).contiguous()];
        }

        using var slope = squareGradient.Times(2 / positions).unsqueeze(2);
        return [torch.addcmul(offset, flat, slope, TensorArithmetic.One)];
    }

    private static Tensor? Defined(Tensor? gradient) => gradient is null || gradient.IsInvalid ? null : gradient;
}
