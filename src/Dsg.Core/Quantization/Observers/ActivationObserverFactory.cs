namespace Dsg.Core.Quantization.Observers;

/// <summary>Creates the observer for an <see cref="ObserverKind"/>.</summary>
public static class ActivationObserverFactory
{
    /// <summary>A fresh observer of the given kind.</summary>
    /// <param name="kind">Which observer.</param>
    /// <param name="percentile">The percentile for <see cref="ObserverKind.Percentile"/>.</param>
    public static IActivationObserver Create(ObserverKind kind, double percentile = 99.99) => kind switch
    {
        ObserverKind.MinMax => new MinMaxObserver(),
        ObserverKind.Percentile => new PercentileObserver(percentile),
        ObserverKind.Mse => new MseObserver(),
        ObserverKind.Entropy => new EntropyObserver(),
        ObserverKind.Ema => new EmaObserver(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown observer kind."),
    };
}
