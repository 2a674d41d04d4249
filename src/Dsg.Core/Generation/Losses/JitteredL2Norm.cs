using static TorchSharp.torch;

namespace Dsg.Core.Generation.Losses;

/// <summary>L2-norm prior on the randomly shifted copy of the images that went through the model, averaged over samples.</summary>
internal sealed class JitteredL2Norm : LossTerm
{
    public JitteredL2Norm(double weight)
        : base("l2", weight)
    {
    }

    public override Tensor Compute(LossContext context) => Loss(context.ModelInput);

    public static Tensor Loss(Tensor images) =>
        images.reshape(images.shape[0], -1).Squared().sum(1).Plus(1e-12).sqrt().mean();
}
