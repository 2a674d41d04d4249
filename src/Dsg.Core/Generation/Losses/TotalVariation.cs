using static TorchSharp.torch;

namespace Dsg.Core.Generation.Losses;

/// <summary>
/// Total-variation prior on the (jittered) model input: per sample, the L2 norm of the horizontal plus that of the
/// vertical neighbour differences, averaged over samples.
/// </summary>
internal sealed class TotalVariation : LossTerm
{
    public TotalVariation(double weight)
        : base("tv", weight)
    {
    }

    public override Tensor Compute(LossContext context) => Loss(context.ModelInput);

    public static Tensor Loss(Tensor images)
    {
        long n = images.shape[0];
        var horizontal = images[.., .., .., 1..] - images[.., .., .., ..^1];
        var vertical = images[.., .., 1.., ..] - images[.., .., ..^1, ..];
        var h = horizontal.reshape(n, -1).Squared().sum(1).Plus(1e-12).sqrt();
        var v = vertical.reshape(n, -1).Squared().sum(1).Plus(1e-12).sqrt();
        return h.Plus(v).mean();
    }
}
