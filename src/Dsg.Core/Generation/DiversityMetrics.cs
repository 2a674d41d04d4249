using Dsg.Core.Data;
using Dsg.Core.Graph;
using static TorchSharp.torch;

namespace Dsg.Core.Generation;

/// <summary>
/// How diverse a sample set is, measured the same way for every method (and for real data).
/// Higher spreads and lower cosines mean more diverse samples. <see cref="BatchNormGap"/> is the fidelity side:
/// how far the per-sample statistics are from the BN running statistics.
/// </summary>
/// <param name="Samples">Number of samples measured.</param>
/// <param name="BatchNormMeanSpread">Std over samples of μ̃_l[n,c], divided by σ_l[c], averaged over channels then layers.</param>
/// <param name="BatchNormStdSpread">Std over samples of σ̃_l[n,c], divided by σ_l[c], averaged over channels then layers.</param>
/// <param name="PixelCosine">Mean absolute off-diagonal cosine similarity between samples in pixel space.</param>
/// <param name="FeatureCosine">The same in the model's penultimate feature space (NaN when the model exposes none).</param>
/// <param name="BatchNormGap">Mean over layers, samples and channels of (|μ̃ − μ| + |σ̃ − σ|) / (2σ).</param>
public sealed record DiversityMetrics(
    int Samples,
    double BatchNormMeanSpread,
    double BatchNormStdSpread,
    double PixelCosine,
    double FeatureCosine,
    double BatchNormGap)
{
    /// <summary>The most input values one forward pass of the metrics takes (16 samples of 3×224×224; 64 of 28×28 and far more).</summary>
    internal const long MaxBatchInputValues = 16 * 3 * 224 * 224;

    /// <summary>The most values a row block of the pixel Gram matrix holds (64 samples of 3×224×224; every sample of a small set).</summary>
    internal const long GramBlockValues = 64 * 3 * 224 * 224;

    /// <summary>Average of the mean and std spreads: the headline "spread of per-sample BN statistics".</summary>
    public double BatchNormSpread => (BatchNormMeanSpread + BatchNormStdSpread) / 2;

    /// <summary>
    /// Measures any sample set (N×C×H×W float32 in the model's input space, on any device) with <paramref name="graph"/>,
    /// in batches of <paramref name="batchSize"/>: generated samples of every method, or real calibration images.
    /// Pixel cosines are taken on (x − m)/s of <paramref name="input"/> (default N(0, 1): on x itself), as the
    /// generator reports them.
    /// </summary>
    public static DiversityMetrics Compute(TorchGraph graph, Tensor samples, int batchSize = 64, InputConvention? input = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        using var model = new TorchGraphGenerationModel(graph);
        using var normalised = new NormalisedInputModel(model, input ?? InputConvention.Standard);
        using var scope = NewDisposeScope();
        return Compute(normalised, normalised.ToNormalised(samples), batchSize);
    }

    /// <summary>
    /// Measures a sample set in the model's input space, read a batch at a time (so a set in a scratch file is never
    /// held whole), after <paramref name="normalise"/> (which may work in place on the batch it is given).
    /// </summary>
    internal static DiversityMetrics Compute(IGenerationModel model, CalibrationSet samples, int batchSize, Func<Tensor, Tensor> normalise)
    {
        ArgumentNullException.ThrowIfNull(samples);
        return Compute(model, samples.Count, samples.SampleSize, (start, count) =>
            normalise(tensor(samples.Values((int)start, (int)count).ToArray(), samples.BatchShape((int)count))), batchSize);
    }

    /// <summary>Measures <paramref name="samples"/> (N×C×H×W float32, any device) with the model, in batches of <paramref name="batchSize"/>.</summary>
    internal static DiversityMetrics Compute(IGenerationModel model, Tensor samples, int batchSize = 64) =>
        Compute(model, samples.shape[0], samples.numel() / Math.Max(1, samples.shape[0]), (start, count) => samples.narrow(0, start, count), batchSize);

    /// <summary>
    /// Measures <paramref name="n"/> samples of <paramref name="perSample"/> values that <paramref name="read"/> gives
    /// as a tensor per (start, count), in batches of at most <paramref name="batchSize"/>. Only per-sample statistics
    /// and features outlive a batch, so memory does not grow with the number of samples.
    /// </summary>
    private static DiversityMetrics Compute(IGenerationModel model, long n, long perSample, Func<long, long, Tensor> read, int batchSize)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // Every BN input of a batch is captured at once: at 224×224 that is about 10 MB a sample, so large inputs go in
        // smaller batches (at most MaxBatchInputValues input values per forward pass).
        batchSize = (int)Math.Clamp(MaxBatchInputValues / Math.Max(1, perSample), 1, batchSize);
        int layers = model.BatchNorms.Count;
        var means = new List<Tensor>[layers];
        var stds = new List<Tensor>[layers];
        for (int l = 0; l < layers; l++)
        {
            means[l] = [];
            stds[l] = [];
        }

        var features = new List<Tensor>();
        for (long start = 0; start < n; start += batchSize)
        {
            // A scope per batch: only the per-sample statistics and features outlive it, never the captured activations.
            using var batchScope = NewDisposeScope();
            long end = Math.Min(n, start + batchSize);
            var batch = read(start, end - start).to(float32).to(model.Device);
            var pass = model.Forward(batch, captureBatchNormMoments: layers > 0, captureFeatures: true);
            for (int l = 0; l < layers; l++)
            {
                var (m, s) = ActivationStatistics.PerSample(pass.BatchNormMoments[l]);
                means[l].Add(m.to(float64).cpu().MoveToOuterDisposeScope());
                stds[l].Add(s.to(float64).cpu().MoveToOuterDisposeScope());
            }

            if (pass.Features is not null)
            {
                features.Add(pass.Features.reshape(end - start, -1).to(float64).cpu().MoveToOuterDisposeScope());
            }
        }

        double meanSpread = 0, stdSpread = 0, gap = 0;
        for (int l = 0; l < layers; l++)
        {
            var sigma = model.BatchNorms[l].Sigma.to(float64);
            var mu = model.BatchNorms[l].Mean.to(float64);
            var m = cat(means[l], 0);
            var s = cat(stds[l], 0);
            meanSpread += (m.std(0, unbiased: false) / sigma).mean().item<double>();
            stdSpread += (s.std(0, unbiased: false) / sigma).mean().item<double>();
            gap += ((m - mu).abs().Plus((s - sigma).abs()) / sigma.Times(2L)).mean().item<double>();
        }

        double pixelCosine = MeanAbsoluteOffDiagonalCosine(n, perSample, (start, count) => read(start, count).reshape(count, -1));
        double featureCosine = features.Count == 0 ? double.NaN : MeanAbsoluteOffDiagonalCosine(cat(features, 0));
        return layers == 0
            ? new DiversityMetrics((int)n, double.NaN, double.NaN, pixelCosine, featureCosine, double.NaN)
            : new DiversityMetrics((int)n, meanSpread / layers, stdSpread / layers, pixelCosine, featureCosine, gap / layers);
    }

    /// <summary>Mean |cos(z_i, z_j)| over i ≠ j of the rows of an N×D matrix (0 for fewer than 2 rows).</summary>
    internal static double MeanAbsoluteOffDiagonalCosine(Tensor rows) =>
        MeanAbsoluteOffDiagonalCosine(rows.shape[0], rows.shape[1], (start, count) => rows.narrow(0, start, count));

    /// <summary>
    /// Mean |cos(z_i, z_j)| over i ≠ j of <paramref name="n"/> rows of <paramref name="d"/> values, read as row blocks
    /// by <paramref name="rows"/> (0 for fewer than 2 rows). The N×N Gram matrix is accumulated in float64 over column
    /// blocks, one pair of row blocks at a time (at most <paramref name="blockValues"/> values a row block), so
    /// neither a float64 copy of the rows nor all of them at once is held.
    /// </summary>
    internal static double MeanAbsoluteOffDiagonalCosine(long n, long d, Func<long, long, Tensor> rows, long blockValues = GramBlockValues)
    {
        using var scope = NewDisposeScope();
        if (n < 2)
        {
            return 0;
        }

        long rowsPerBlock = Math.Clamp(blockValues / Math.Max(1, d), 1, n);
        var gram = zeros([n, n], float64);
        for (long i = 0; i < n; i += rowsPerBlock)
        {
            using var iScope = NewDisposeScope();
            long ni = Math.Min(rowsPerBlock, n - i);
            var a = rows(i, ni);
            for (long j = i; j < n; j += rowsPerBlock)
            {
                using var jScope = NewDisposeScope();
                long nj = Math.Min(rowsPerBlock, n - j);
                var b = j == i ? a : rows(j, nj);
                var block = zeros([ni, nj], float64, a.device);
                const long columns = 4096;
                for (long start = 0; start < d; start += columns)
                {
                    using var columnScope = NewDisposeScope();
                    long width = Math.Min(columns, d - start);
                    var left = a.narrow(1, start, width).to(float64);
                    var right = j == i ? left : b.narrow(1, start, width).to(float64);
                    block.PlusInPlace(left.matmul(right.t()));
                }

                var cpuBlock = block.cpu();
                gram.narrow(0, i, ni).narrow(1, j, nj).copy_(cpuBlock);
                gram.narrow(0, j, nj).narrow(1, i, ni).copy_(cpuBlock.t());
            }
        }

        var norms = gram.diagonal().sqrt().AtLeast(1e-12);
        var cosine = gram / norms.unsqueeze(1) / norms.unsqueeze(0);
        double sum = cosine.abs().sum().item<double>();
        double diagonal = cosine.diagonal().abs().sum().item<double>();
        return (sum - diagonal) / ((double)n * (n - 1));
    }
}
