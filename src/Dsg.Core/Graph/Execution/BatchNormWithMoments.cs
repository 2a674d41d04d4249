using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Execution;

/// <summary>
/// A BatchNormalization layer in inference form together with the per-sample, per-channel moments of its input, E[x]
/// and E[x²] over the positions, as the generator's BatchNorm terms read them (<see cref="ForwardCapture.BatchNormMoments"/>).
/// </summary>
/// <remarks>
/// Where <see cref="ChannelMomentKernels.Applies"/> (float32 on the CPU, contiguous), one autograd function does both:
/// its forward reads x once for the output and both moments, and its backward writes the input gradient of the layer
/// and of the moments in one pass. Run apart, libtorch reads every BatchNorm input three times forward and, backward,
/// writes two full-size gradients and reads both again to add them.
/// </remarks>
internal sealed class BatchNormWithMoments : autograd.MultiTensorFunction<BatchNormWithMoments>
{
    private const string ScaleKey = "alpha";

    public override string Name => nameof(BatchNormWithMoments);

    /// <summary>
    /// The layer's output for <paramref name="x"/> (N×C×…) and x's moments E[x], E[x²], both N×C, where
    /// <see cref="ChannelMomentKernels.Applies"/>; null elsewhere (the caller runs the layer's own kernel and
    /// <see cref="ChannelMoments.Of"/>).
    /// </summary>
    public static (Tensor Output, Tensor Mean, Tensor MeanSquare)? TryRun(Tensor x, BatchNormLayer layer)
    {
        if (!ChannelMomentKernels.Applies(x) || x.shape[1] != layer.Channels)
        {
            return null;
        }

        // TorchSharp keeps an empty tensor shaped like each output, for zero gradients this function never asks for
        // (no materialised gradients); freed here instead of at the end of the forward pass, where they raised a ResNet-18
        // step's peak resident memory at 224 × 224 by a quarter.
        using var scope = NewDisposeScope();
        var results = apply(x, layer.InferenceScale, layer.InferenceShift);
        return (results[0].MoveToOuterDisposeScope(), results[1].MoveToOuterDisposeScope(), results[2].MoveToOuterDisposeScope());
    }

    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var alpha = (float[])vars[1];
        var beta = (float[])vars[2];
        // Missing gradients stay missing (undefined) rather than materialised as zeros the size of the output.
        ctx.set_materialize_grads(false);
        ctx.save_for_backward([x]);
        ctx.save_data(ScaleKey, alpha);
        var output = empty_like(x);
        var mean = empty([x.shape[0], x.shape[1]], ScalarType.Float32);
        var meanSquare = empty([x.shape[0], x.shape[1]], ScalarType.Float32);
        ChannelMomentKernels.Forward(x, mean, meanSquare, output, alpha, beta);
        return [output, mean, meanSquare];
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradients)
    {
        using var x = ctx.get_saved_variables()[0];
        var alpha = (float[])ctx.get_data(ScaleKey);
        using var upstream = Defined(gradients[0])?.contiguous();
        var inputGradient = empty_like(x);
        ChannelMomentKernels.Backward(x, upstream, alpha, Defined(gradients[1]), Defined(gradients[2]), inputGradient);
        return [inputGradient, null!, null!];
    }

    private static Tensor? Defined(Tensor? gradient) => gradient is null || gradient.IsInvalid ? null : gradient;
}
