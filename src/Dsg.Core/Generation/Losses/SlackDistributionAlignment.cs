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
        var perSampleLayer = PerSampleLayerLoss(context.BatchNormMoments, context.Targets, _margins);
        long samples = perSampleLayer.shape[0];
        if (_enhancement is null)
        {
            return perSampleLayer.sum().DividedBy(samples);
        }

        var weights = _enhancement.Weights(samples, context.Targets.Count, context.FirstSampleIndex, perSampleLayer.device);
        return (weights * perSampleLayer).sum().DividedBy(samples);
    }

    /// <summary>
    /// L_SDA,l[n] for every sample and layer: an N×L tensor. The per-sample statistics of all layers are concatenated
    /// along the channels and the hinge is computed once for all of them (a few large ops instead of a dozen per layer,
    /// see docs/performance.md); the per-layer sums are then gathered with index_add.
    /// </summary>
    public static Tensor PerSampleLayerLoss(IReadOnlyList<(Tensor Mean, Tensor Variance)> batchNormMoments, IReadOnlyList<BatchNormTarget> targets, BatchNormMargins margins)
    {
        int layers = targets.Count;
        var means = new Tensor[layers];
        var stds = new Tensor[layers];
        var targetMeans = new Tensor[layers];
        var targetSigmas = new Tensor[layers];
        long total = targets.Sum(t => t.Channels);
        var meanMargins = new float[total];
        var stdMargins = new float[total];
        var layerOf = new long[total];
        long offset = 0;
        for (int l = 0; l < layers; l++)
        {
            (means[l], stds[l]) = ActivationStatistics.PerSample(batchNormMoments[l]);
            targetMeans[l] = targets[l].Mean;
            targetSigmas[l] = targets[l].Sigma;
            long channels = targets[l].Channels;
            Array.Fill(meanMargins, (float)margins.Mean[l], (int)offset, (int)channels);
            Array.Fill(stdMargins, (float)margins.Std[l], (int)offset, (int)channels);
            Array.Fill(layerOf, l, (int)offset, (int)channels);
            offset += channels;
        }

        var device = batchNormMoments[0].Mean.device;
        var meanExcess = ((cat(means, 1) - cat(targetMeans, 0).unsqueeze(0)).abs() - tensor(meanMargins, device: device)).AtLeast(0);
        var stdExcess = ((cat(stds, 1) - cat(targetSigmas, 0).unsqueeze(0)).abs() - tensor(stdMargins, device: device)).AtLeast(0);
        var perChannel = meanExcess.Squared().Plus(stdExcess.Squared());
        return zeros([perChannel.shape[0], layers], perChannel.dtype, device).index_add(1, tensor(layerOf, device: device), perChannel, TensorArithmetic.One);
    }
}
