using static TorchSharp.torch;

namespace Dsg.Core.Generation.Losses;

/// <summary>
/// Keeps the images in the model's input convention: per sample and channel, mean → 0 and std → 1 of the normalised
/// images z = (x − m)/s, i.e. mean → m and std → s of the images x the model sees; no slack.
/// (1/N) Σ_n Σ_c (m[n,c]² + (s[n,c] − 1)²) on z.
/// </summary>
internal sealed class InputStatistics : LossTerm
{
    public InputStatistics(double weight)
        : base("input", weight)
    {
    }

    public override Tensor Compute(LossContext context) => Loss(context.Images);

    public static Tensor Loss(Tensor images)
    {
        var (mean, std) = ActivationStatistics.PerSample(images);
        return mean.Squared().sum().Plus(std.Minus(1).Squared().sum()).DividedBy(images.shape[0]);
    }
}
