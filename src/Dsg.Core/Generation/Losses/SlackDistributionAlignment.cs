using static TorchSharp.torch;

namespace Dsg.Core.Generation.Losses;

/// <summary>
/// Slack Distribution Alignment combined with Layerwise Sample Enhancement:
/// L_BN = (1/N) Σ_n Σ_l w[n,l] · L_SDA,l[n], with
/// L_SDA,l[n] = Σ_c max(|μ̃_l[n,c] − μ_l[c]| − δ_l, 0)² + Σ_c max(|σ̃_l[n,c] − σ_l[c]| − γ_l, 0)².
/// Without enhancement every w[n,l] is 1; with zero margins this is exact per-sample alignment.
/// </summary>
internal sealed class SlackDistributionAlignment : LossTerm
{
    private readonly BatchNormMargins _margins;
    private readonly LayerwiseSampleEnhancement? _enhancement;

    public SlackDistributionAlignment(double weight, BatchNormMargins margins, LayerwiseSampleEnhancement? enhancement)
        : base("bn", weight)
    {
        _margins = margins;
        _enhancement = enhancement;
    }

    public override Tensor Compute(LossContext context)
    {
        var perSampleLayer = PerSampleLayerLoss(context.Pass.BatchNormInputs, context.Targets, _margins);
        long samples = perSampleLayer.shape[0];
        if (_enhancement is null)
        {
            return perSampleLayer.sum() / samples;
        }

        var weights = _enhancement.Weights(samples, context.Targets.Count, context.FirstSampleIndex, perSampleLayer.device);
        return (weights * perSampleLayer).sum() / samples;
    }

    /// <summary>L_SDA,l[n] for every sample and layer: an N×L tensor.</summary>
    public static Tensor PerSampleLayerLoss(IReadOnlyList<Tensor> batchNormInputs, IReadOnlyList<BatchNormTarget> targets, BatchNormMargins margins)
    {
        var columns = new Tensor[targets.Count];
        for (int l = 0; l < targets.Count; l++)
        {
            var (mean, std) = ActivationStatistics.PerSample(batchNormInputs[l]);
            var meanExcess = ((mean - targets[l].Mean.unsqueeze(0)).abs() - margins.Mean[l]).clamp_min(0);
            var stdExcess = ((std - targets[l].Sigma.unsqueeze(0)).abs() - margins.Std[l]).clamp_min(0);
            columns[l] = meanExcess.square().sum(1) + stdExcess.square().sum(1);
        }

        return stack(columns, 1);
    }
}
