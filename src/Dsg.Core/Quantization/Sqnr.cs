namespace Dsg.Core.Quantization;

/// <summary>Signal-to-quantization-noise ratio: 10·log10(Σx² / Σ(x − x̂)²) in dB.</summary>
public static class Sqnr
{
    /// <summary>The ratio for a signal and its approximation; +∞ when they are equal.</summary>
    public static double Compute(ReadOnlySpan<float> reference, ReadOnlySpan<float> approximation)
    {
        if (reference.Length != approximation.Length)
        {
            throw new ArgumentException("Both tensors must have the same number of values.", nameof(approximation));
        }

        double signal = 0, noise = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double d = (double)reference[i] - approximation[i];
            signal += (double)reference[i] * reference[i];
            noise += d * d;
        }

        return Decibels(signal, noise);
    }

    /// <summary>10·log10(signal / noise); +∞ for zero noise.</summary>
    public static double Decibels(double signal, double noise) =>
        noise <= 0 ? double.PositiveInfinity : 10 * Math.Log10(Math.Max(signal, 1e-300) / noise);
}
