namespace Dsg.Core.Quantization.Observers;

/// <summary>
/// The range whose quantized distribution is closest, in KL divergence, to the distribution of the values seen
/// (TensorRT-style entropy calibration). The search runs on a histogram of |x| with 2048 bins: each threshold t
/// folds the tail into the last kept bin, merges the kept bins into as many levels as the grid has on that side
/// (all levels for non-negative tensors, half for signed ones), and keeps the t with the smallest KL(P‖Q).
/// </summary>
public sealed class EntropyObserver : HistogramObserver
{
    private const int AbsBins = 2048;
    /// <inheritdoc />
    public override ObserverKind Kind => ObserverKind.Entropy;

    /// <inheritdoc />
    private protected override (float Min, float Max) Choose(IntegerGrid grid, float min, float max)
    {
        double absMax = Math.Max(Math.Abs(min), Math.Abs(max));
        if (absMax <= 0)
        {
            return (min, max);
        }

        bool signed = min < 0;
        int levels = signed ? Math.Max(grid.Levels / 2, 1) : grid.Levels;
        var abs = new double[AbsBins];
        var counts = Histogram.Counts;
        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] != 0)
            {
                abs[Math.Min((int)(Math.Abs(Histogram.Center(i)) / absMax * AbsBins), AbsBins - 1)] += counts[i];
            }
        }

        int bestBins = AbsBins;
        double bestKl = double.PositiveInfinity;
        if (levels < AbsBins)
        {
            var reference = new double[AbsBins];
            var quantized = new double[AbsBins];
            double tail = 0;
            for (int i = 0; i < AbsBins; i++)
            {
                tail += abs[i];
            }

            // tail holds the mass of bins >= kept.
            double kept = 0;
            for (int i = 0; i < levels; i++)
            {
                kept += abs[i];
            }

            tail -= kept;
            for (int bins = levels; bins <= AbsBins; bins++)
            {
                double kl = Divergence(abs, bins, levels, tail, reference, quantized);
                if (kl < bestKl)
                {
                    bestKl = kl;
                    bestBins = bins;
                }

                if (bins < AbsBins)
                {
                    tail -= abs[bins];
                }
            }
        }

        double threshold = absMax * bestBins / AbsBins;
        return ((float)Math.Max(min, -threshold), (float)Math.Min(max, threshold));
    }

    private static double Divergence(double[] abs, int bins, int levels, double tail, double[] reference, double[] quantized)
    {
        Array.Copy(abs, reference, bins);
        reference[bins - 1] += tail;
        double step = (double)bins / levels;
        for (int j = 0; j < levels; j++)
        {
            int start = (int)Math.Floor(j * step);
            int end = j == levels - 1 ? bins : (int)Math.Floor((j + 1) * step);
            double total = 0;
            int nonZero = 0;
            for (int i = start; i < end; i++)
            {
                total += abs[i];
                nonZero += abs[i] != 0 ? 1 : 0;
            }

            double each = nonZero > 0 ? total / nonZero : 0;
            for (int i = start; i < end; i++)
            {
                quantized[i] = abs[i] != 0 ? each : 0;
            }
        }

        double sumP = 0, sumQ = 0;
        for (int i = 0; i < bins; i++)
        {
            sumP += reference[i];
            sumQ += quantized[i];
        }

        if (sumP <= 0 || sumQ <= 0)
        {
            return double.PositiveInfinity;
        }

        double kl = 0;
        for (int i = 0; i < bins; i++)
        {
            if (reference[i] > 0)
            {
                double p = reference[i] / sumP;
                double q = quantized[i] > 0 ? quantized[i] / sumQ : 1e-12;
                kl += p * Math.Log(p / q);
            }
        }

        return kl;
    }
}
