namespace Dsg.Core.Quantization.Observers;

/// <summary>
/// The range that minimises the expected squared quantization error over the values seen: candidates shrink the
/// observed upper end (200 steps) and, for signed tensors, the lower end independently (50 × 50 steps); a value inside the range costs scale²/12 (rounding), a value outside
/// costs its squared distance to the range (clipping). Values are kept in a 2048-bin histogram.
/// </summary>
public sealed class MseObserver : HistogramObserver
{
    private const int Candidates = 200;
    private const int SignedSteps = 50;
    /// <inheritdoc />
    public override ObserverKind Kind => ObserverKind.Mse;

    /// <inheritdoc />
    private protected override (float Min, float Max) Choose(IntegerGrid grid, float min, float max)
    {
        double bestError = double.PositiveInfinity;
        (float, float) best = (min, max);

        // One-sided tensors (after ReLU) search the upper end only; signed ones search both ends independently.
        int lowSteps = min < 0 && max > 0 ? SignedSteps : 1;
        int highSteps = min < 0 && max > 0 ? SignedSteps : Candidates;
        for (int i = lowSteps; i >= 1; i--)
        {
            for (int j = highSteps; j >= 1; j--)
            {
                float lo = min < 0 && max <= 0 ? (float)(min * (double)j / highSteps) : (float)(min * (double)i / lowSteps);
                float hi = min < 0 && max <= 0 ? max : (float)(max * (double)j / highSteps);
                double error = ExpectedError(lo, hi, grid);
                if (error < bestError)
                {
                    bestError = error;
                    best = (lo, hi);
                }
            }
        }

        return best;
    }

    /// <summary>Expected squared error of quantizing the histogram's values on the grid for [lo, hi].</summary>
    internal double ExpectedError(float lo, float hi, IntegerGrid grid)
    {
        var p = QuantParams.FromRange(lo, hi, grid);
        double rangeMin = p.RangeMin, rangeMax = p.RangeMax, rounding = (double)p.Scale * p.Scale / 12;
        double error = 0;
        var counts = Histogram.Counts;
        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] == 0)
            {
                continue;
            }

            double c = Histogram.Center(i);
            double e = c < rangeMin ? (rangeMin - c) * (rangeMin - c) : c > rangeMax ? (c - rangeMax) * (c - rangeMax) : rounding;
            error += counts[i] * e;
        }

        return error;
    }
}
