namespace Dsg.Core.Data;

/// <summary>Samples in the model's input space (N×C×H×W float32, C order), optionally with one class label each.</summary>
public sealed record CalibrationSet
{
    /// <summary>Wraps samples of the given shape; <paramref name="labels"/> must hold one label per sample.</summary>
    public CalibrationSet(float[] samples, long[] shape, long[]? labels = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length < 2 || shape.Aggregate(1L, (a, d) => a * d) != samples.Length)
        {
            throw new ArgumentException($"Shape ({string.Join(", ", shape)}) does not hold {samples.Length} values.", nameof(shape));
        }

        if (labels is not null && labels.Length != shape[0])
        {
            throw new ArgumentException($"{labels.Length} labels for {shape[0]} samples.", nameof(labels));
        }

        Samples = samples;
        Shape = shape;
        Labels = labels;
    }

    /// <summary>The values.</summary>
    public float[] Samples { get; }

    /// <summary>N, C, H, W.</summary>
    public long[] Shape { get; }

    /// <summary>Class labels, one per sample, or null.</summary>
    public long[]? Labels { get; }

    /// <summary>The number of samples.</summary>
    public int Count => (int)Shape[0];

    /// <summary>Values per sample (C×H×W).</summary>
    public int SampleSize => Count == 0 ? 0 : Samples.Length / Count;

    /// <summary>The shape of one sample (C, H, W).</summary>
    public long[] SampleShape => Shape[1..];

    /// <summary>The values of samples [start, start + count).</summary>
    public ReadOnlyMemory<float> Values(int start, int count) => Samples.AsMemory(start * SampleSize, count * SampleSize);

    /// <summary>The input shape for a batch of <paramref name="count"/> samples.</summary>
    public long[] BatchShape(int count) => [count, .. SampleShape];

    /// <summary>Samples [start, start + count) as a new set (labels included).</summary>
    public CalibrationSet Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"Samples {start}..{start + count} are outside 0..{Count}.");
        }

        return new CalibrationSet(Values(start, count).ToArray(), BatchShape(count), Labels?[start..(start + count)]);
    }

    /// <summary>A random subset of <paramref name="count"/> samples (without replacement, seeded), labels included.</summary>
    public CalibrationSet Sample(int count, int seed)
    {
        count = Math.Min(count, Count);
        var order = Enumerable.Range(0, Count).ToArray();
        new Random(seed).Shuffle(order);
        var picked = order[..count];
        var values = new float[count * SampleSize];
        for (int i = 0; i < count; i++)
        {
            Values(picked[i], 1).Span.CopyTo(values.AsSpan(i * SampleSize, SampleSize));
        }

        return new CalibrationSet(values, BatchShape(count), Labels is null ? null : picked.Select(i => Labels[i]).ToArray());
    }

    /// <summary>(start, count) of each batch of at most <paramref name="batchSize"/> samples.</summary>
    public IEnumerable<(int Start, int Count)> Batches(int batchSize)
    {
        for (int start = 0; start < Count; start += batchSize)
        {
            yield return (start, Math.Min(batchSize, Count - start));
        }
    }
}
