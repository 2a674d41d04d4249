using static TorchSharp.torch;

namespace Dsg.Core.Generation;

/// <summary>
/// The SDA margins of every BN layer: δ_l (for the mean) and γ_l (for the standard deviation), the ε-quantile of
/// |μ̃_l − μ_l| and |σ̃_l − σ_l| over all samples and channels of one batch of noise in the input space (N(m, s²) per channel).
/// </summary>
internal sealed record BatchNormMargins(double[] Mean, double[] Std)
{
    /// <summary>Zero margins for <paramref name="layers"/> layers: exact per-sample alignment.</summary>
    public static BatchNormMargins Zero(int layers) => new(new double[layers], new double[layers]);

    /// <summary>
    /// Feeds <paramref name="noise"/> (a batch of noise images in the model's input convention) through the model and takes the
    /// <paramref name="quantile"/>-quantile of the statistic gaps per layer. ε = 0 is defined as zero margins
    /// (exact alignment), as the DSG paper states, rather than the smallest observed gap.
    /// </summary>
    public static BatchNormMargins Compute(IGenerationModel model, Tensor noise, double quantile)
    {
        int layers = model.BatchNorms.Count;
        if (quantile == 0)
        {
            return Zero(layers);
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pass = model.Forward(noise, captureBatchNormMoments: true, captureFeatures: false);
        var mean = new double[layers];
        var std = new double[layers];
        for (int l = 0; l < layers; l++)
        {
            var target = model.BatchNorms[l];
            var (m, s) = ActivationStatistics.PerSample(pass.BatchNormMoments[l]);
            mean[l] = Quantile(Gaps(m, target.Mean), quantile);
            std[l] = Quantile(Gaps(s, target.Sigma), quantile);
        }

        return new BatchNormMargins(mean, std);
    }

    /// <summary>The q-quantile with linear interpolation between order statistics (NumPy's default).</summary>
    public static double Quantile(float[] values, double q)
    {
        if (values.Length == 0)
        {
            return 0;
        }

        var sorted = (float[])values.Clone();
        Array.Sort(sorted);
        double position = q * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        double fraction = position - below;
        return sorted[below] + ((sorted[above] - (double)sorted[below]) * fraction);
    }

    private static float[] Gaps(Tensor perSample, Tensor target) =>
        (perSample - target.unsqueeze(0)).abs().to(float32).cpu().data<float>().ToArray();
}
