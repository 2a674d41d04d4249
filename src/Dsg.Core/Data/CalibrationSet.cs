namespace Dsg.Core.Data;

/// <summary>
/// Samples in the model's input space (N×C×H×W float32, C order), optionally with one class label each. The values
/// live in a <see cref="SampleBuffer"/>: in memory, or for large sets in a scratch file that the set owns and deletes
/// when disposed. Read them a batch at a time with <see cref="Values"/>.
/// </summary>
public sealed class CalibrationSet : IDisposable
{
    private readonly SampleBuffer _buffer;

    /// <summary>Wraps samples of the given shape held in memory; <paramref name="labels"/> must hold one label per sample.</summary>
    public CalibrationSet(float[] samples, long[] shape, long[]? labels = null)
        : this(SampleBuffer.Of(samples ?? throw new ArgumentNullException(nameof(samples))), shape, labels)
    {
    }

    /// <summary>Wraps (and takes ownership of) a buffer holding samples of the given shape.</summary>
    public CalibrationSet(SampleBuffer buffer, long[] shape, long[]? labels = null)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length < 2 || shape.Aggregate(1L, (a, d) => a * d) != buffer.Length)
        {
            throw new ArgumentException($"Shape ({string.Join(", ", shape)}) does not hold {buffer.Length} values.", nameof(shape));
        }

        if (labels is not null && labels.Length != shape[0])
        {
            throw new ArgumentException($"{labels.Length} labels for {shape[0]} samples.", nameof(labels));
        }

        _buffer = buffer;
        Shape = shape;
        Labels = labels;
    }

    /// <summary>N, C, H, W.</summary>
    public long[] Shape { get; }

    /// <summary>Class labels, one per sample, or null.</summary>
    public long[]? Labels { get; }

    /// <summary>The number of samples.</summary>
    public int Count => (int)Shape[0];

    /// <summary>Values per sample (C×H×W).</summary>
    public int SampleSize => (int)Shape[1..].Aggregate(1L, (a, d) => a * d);

    /// <summary>The shape of one sample (C, H, W).</summary>
    public long[] SampleShape => Shape[1..];

    /// <summary>Whether the values are held in memory (false: in a scratch file, read per call of <see cref="Values"/>).</summary>
    public bool InMemory => _buffer.InMemory;

    /// <summary>
    /// The values of samples [start, start + count): a view of the set's own memory, or a new array read from its
    /// scratch file.
    /// </summary>
    public ReadOnlyMemory<float> Values(int start, int count)
    {
        CheckRange(start, count);
        long offset = (long)start * SampleSize;
        int length = checked(count * SampleSize);
        if (_buffer.InMemoryValues is { } values)
        {
            return values.AsMemory(checked((int)offset), length);
        }

        var read = new float[length];
        _buffer.Read(offset, read);
        return read;
    }

    /// <summary>Copies the values of sample <paramref name="index"/> into <paramref name="destination"/> (no allocation).</summary>
    internal void CopySample(int index, Span<float> destination)
    {
        CheckRange(index, 1);
        long offset = (long)index * SampleSize;
        if (_buffer.InMemoryValues is { } values)
        {
            values.AsSpan(checked((int)offset), SampleSize).CopyTo(destination);
            return;
        }

        _buffer.Read(offset, destination[..SampleSize]);
    }

    /// <summary>Stores the values of samples from <paramref name="start"/> on (a whole number of samples).</summary>
    internal void Write(int start, ReadOnlySpan<float> values)
    {
        if (values.Length % Math.Max(1, SampleSize) != 0)
        {
            throw new ArgumentException($"{values.Length} values are not a whole number of samples of {SampleSize}.", nameof(values));
        }

        CheckRange(start, values.Length / Math.Max(1, SampleSize));
        _buffer.Write((long)start * SampleSize, values);
    }

    /// <summary>Every value in one array (the set's own array when it is held in memory): only for sets known to be small.</summary>
    public float[] ToArray() => _buffer.InMemoryValues ?? Values(0, Count).ToArray();

    /// <summary>The input shape for a batch of <paramref name="count"/> samples.</summary>
    public long[] BatchShape(int count) => [count, .. SampleShape];

    /// <summary>Samples [start, start + count) as a new set in memory (labels included).</summary>
    public CalibrationSet Slice(int start, int count)
    {
        CheckRange(start, count);
        return new CalibrationSet(Values(start, count).ToArray(), BatchShape(count), Labels?[start..(start + count)]);
    }

    /// <summary>A random subset of <paramref name="count"/> samples (without replacement, seeded) in memory, labels included.</summary>
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

    /// <summary>
    /// The set followed by each of its samples mirrored along the last axis (left-right for images): twice the samples,
    /// labels repeated, in memory or in a scratch file as <see cref="SampleBuffer.Create"/> decides.
    /// </summary>
    public CalibrationSet WithMirrored()
    {
        int size = SampleSize;
        int width = (int)Shape[^1];
        var buffer = SampleBuffer.Create(2L * Count * size);
        try
        {
            var sample = new float[size];
            for (int i = 0; i < Count; i++)
            {
                CopySample(i, sample);
                buffer.Write((long)i * size, sample);
                for (int row = 0; row < size; row += width)
                {
                    sample.AsSpan(row, width).Reverse();
                }

                buffer.Write((long)(Count + i) * size, sample);
            }

            return new CalibrationSet(buffer, [2L * Count, .. SampleShape], Labels is null ? null : [.. Labels, .. Labels]);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>(start, count) of each batch of at most <paramref name="batchSize"/> samples.</summary>
    public IEnumerable<(int Start, int Count)> Batches(int batchSize)
    {
        for (int start = 0; start < Count; start += batchSize)
        {
            yield return (start, Math.Min(batchSize, Count - start));
        }
    }

    /// <summary>Deletes the scratch file of a file-backed set; nothing to do for one in memory.</summary>
    public void Dispose() => _buffer.Dispose();

    private void CheckRange(int start, int count)
    {
        if (start < 0 || count < 0 || start > Count - count)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"Samples {start}..{start + count} are outside 0..{Count}.");
        }
    }
}
