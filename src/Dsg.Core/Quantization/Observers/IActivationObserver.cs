namespace Dsg.Core.Quantization.Observers;

/// <summary>
/// Sees the values of one activation tensor over the calibration batches and turns them into quantization
/// parameters. Each strategy is its own type; observers never quantize anything themselves.
/// </summary>
public interface IActivationObserver
{
    /// <summary>The observer's kind.</summary>
    ObserverKind Kind { get; }

    /// <summary>The smallest and largest value seen so far (NaN before the first batch).</summary>
    (float Min, float Max) Observed { get; }

    /// <summary>Takes one batch of the tensor: <paramref name="samples"/> samples of equal size, laid out one after another.</summary>
    void Observe(ReadOnlySpan<float> values, int samples);

    /// <summary>The range [min, max] this observer chooses for a grid of the given width.</summary>
    (float Min, float Max) ChooseRange(IntegerGrid grid);
}
