namespace Dsg.Core.Quantization.Observers;

/// <summary>The range is the smallest and largest value seen: nothing is clipped, outliers stretch the grid.</summary>
public sealed class MinMaxObserver : IActivationObserver
{
    private ObservedRange _range;

    /// <inheritdoc />
    public ObserverKind Kind => ObserverKind.MinMax;

    /// <inheritdoc />
    public (float Min, float Max) Observed => _range.Value;

    /// <inheritdoc />
    public void Observe(ReadOnlySpan<float> values, int samples) => _range.Add(values);

    /// <inheritdoc />
    public (float Min, float Max) ChooseRange(IntegerGrid grid) => _range.Any ? (_range.Min, _range.Max) : (0f, 0f);
}
