namespace Dsg.Core.Quantization.Observers;

/// <summary>
/// An observer that keeps every value seen in a 2048-bin <see cref="ActivationHistogram"/> and chooses its range
/// from it; subclasses only say how (<see cref="Choose"/>). Nothing seen gives the range (0, 0).
/// </summary>
public abstract class HistogramObserver : IActivationObserver
{
    private protected ActivationHistogram Histogram { get; } = new();

    /// <inheritdoc />
    public abstract ObserverKind Kind { get; }

    /// <inheritdoc />
    public (float Min, float Max) Observed => Histogram.Observed;

    /// <inheritdoc />
    public void Observe(ReadOnlySpan<float> values, int samples) => Histogram.Add(values);

    /// <inheritdoc />
    public (float Min, float Max) ChooseRange(IntegerGrid grid) => Histogram.Any ? Choose(grid, Histogram.Observed.Min, Histogram.Observed.Max) : (0f, 0f);

    /// <summary>The range for <paramref name="grid"/>, given the smallest and largest value seen (at least one value was seen).</summary>
    private protected abstract (float Min, float Max) Choose(IntegerGrid grid, float min, float max);
}
