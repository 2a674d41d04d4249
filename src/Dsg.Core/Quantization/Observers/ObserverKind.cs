namespace Dsg.Core.Quantization.Observers;

/// <summary>The activation observers Dsg ships; each is its own type (see <see cref="ActivationObserverFactory"/>).</summary>
public enum ObserverKind
{
    /// <summary>The smallest and largest value seen (<see cref="MinMaxObserver"/>).</summary>
    MinMax,

    /// <summary>Low and high percentiles of the values seen (<see cref="PercentileObserver"/>).</summary>
    Percentile,

    /// <summary>The range that minimises the expected quantization MSE (<see cref="MseObserver"/>).</summary>
    Mse,

    /// <summary>The range that minimises the KL divergence between float and quantized distributions (<see cref="EntropyObserver"/>).</summary>
    Entropy,

    /// <summary>The mean over samples of each sample's min and max, as the DSG research code does (<see cref="EmaObserver"/>).</summary>
    Ema,
}
