using static TorchSharp.torch;

namespace Dsg.Core.Generation.Losses;

/// <summary>
/// Keeps the images in the model's normalised input space: per sample and channel, mean → 0 and std → 1, no slack.
/// (1/N) Σ_n Σ_c (m[n,c]² + (s[n,c] − 1)²).
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
        return (mean.square().sum() + (std - 1).square().sum()) / images.shape[0];
    }
}
