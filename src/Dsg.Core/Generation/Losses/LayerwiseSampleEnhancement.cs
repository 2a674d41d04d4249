using static TorchSharp.torch;

namespace Dsg.Core.Generation.Losses;

/// <summary>
/// Layerwise Sample Enhancement: sample n is pushed hardest by layer n mod L, its weight there is
/// <see cref="Factor"/> (2 in the paper), and 1 on every other layer. n counts samples across the whole run, so on
/// the first batch this is exactly the paper's w[n, l], and later batches carry on where the last one stopped
/// instead of favouring the first layers again when the batch size is not a multiple of L.
/// </summary>
internal sealed class LayerwiseSampleEnhancement
{
    public LayerwiseSampleEnhancement(double factor)
    {
        Factor = factor;
    }

    public double Factor { get; }

    /// <summary>The N×L weight matrix w[n, l] for a batch whose first sample has global index <paramref name="firstSampleIndex"/>.</summary>
    public Tensor Weights(long samples, int layers, long firstSampleIndex, Device device)
    {
        var w = new float[samples * layers];
        Array.Fill(w, 1f);
        for (long n = 0; n < samples; n++)
        {
            long enhanced = (firstSampleIndex + n) % layers;
            w[(n * layers) + enhanced] = (float)Factor;
        }

        return tensor(w, [samples, layers], float32, device);
    }
}
