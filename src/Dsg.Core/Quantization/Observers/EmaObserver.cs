namespace Dsg.Core.Quantization.Observers;

/// <summary>
/// The DSG/ZeroQ research code's "ema" range: each sample's min and max, averaged over all samples seen
/// (the batch mean of per-sample extremes, pooled over batches by sample count). Extreme samples are
/// averaged away instead of stretching the grid.
/// </summary>
public sealed class EmaObserver : IActivationObserver
{
    private ObservedRange _range;
    private double _sumMin;
    private double _sumMax;
    private long _samples;

    /// <inheritdoc />
    public ObserverKind Kind => ObserverKind.Ema;

    /// <inheritdoc />
    public (float Min, float Max) Observed => _range.Value;

    /// <inheritdoc />
    public void Observe(ReadOnlySpan<float> values, int samples)
    {
        if (samples <= 0 || values.Length % samples != 0)
        {
            throw new ArgumentException($"{values.Length} values do not split into {samples} equal samples.", nameof(samples));
        }

        _range.Add(values);
        int per = values.Length / samples;
        for (int n = 0; n < samples; n++)
        {
            var sample = values.Slice(n * per, per);
            float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
            foreach (float v in sample)
            {
                lo = Math.Min(lo, v);
                hi = Math.Max(hi, v);
            }

            _sumMin += lo;
            _sumMax += hi;
        }

        _samples += samples;
    }

    /// <inheritdoc />
    public (float Min, float Max) ChooseRange(IntegerGrid grid) =>
        _samples == 0 ? (0f, 0f) : ((float)(_sumMin / _samples), (float)(_sumMax / _samples));
}
