namespace Dsg.Core.Quantization.Observers;

/// <summary>
/// The range runs from the (100 − p)th to the pth percentile of every value seen (p = 99.99 by default), so the
/// rarest outliers are clipped. Values are kept in a 2048-bin histogram.
/// </summary>
public sealed class PercentileObserver : HistogramObserver
{
    /// <summary>Creates the observer.</summary>
    /// <param name="percentile">The upper percentile kept, in (50, 100].</param>
    public PercentileObserver(double percentile = 99.99)
    {
        if (!(percentile > 50 && percentile <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "The percentile must be above 50 and at most 100.");
        }

        Percentile = percentile;
    }

    /// <summary>The upper percentile kept.</summary>
    public double Percentile { get; }

    /// <inheritdoc />
    public override ObserverKind Kind => ObserverKind.Percentile;

    /// <inheritdoc />
    private protected override (float Min, float Max) Choose(IntegerGrid grid, float min, float max)
    {
        float lo = min >= 0 ? min : (float)Histogram.Quantile(1 - Percentile / 100);
        float hi = (float)Histogram.Quantile(Percentile / 100);
        return (Math.Max(lo, min), Math.Min(hi, max));
    }
}
