using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Execution;

/// <summary>
/// Loops over the memory of a contiguous float32 CPU tensor viewed as N×C×P rows (one row of P positions per sample and
/// channel) that do in one pass what libtorch does in several: the forward takes each row's sum and sum of squares in
/// one read (and, for a BatchNorm, writes its inference affine α_c·x + β_c from the same read); the backward writes
/// g_y·α_c + g_μ/P + (2·g_{μ²}/P)·x, the BatchNorm's input gradient and the moments' in one pass over x and g_y.
/// </summary>
/// <remarks>
/// libtorch takes the sum and the norm with one read each and the BatchNorm with a third; its backward writes the
/// BatchNorm's gradient and the moments' gradient, then reads both to add them. Rows are split into ranges run on
/// <c>torch.get_num_threads()</c> threads; sums are kept in float vectors for at most <see cref="FlushVectors"/>
/// vectors, then added in double, so a long row (112×112 positions) adds up in blocks rather than in one float.
/// </remarks>
internal static class ChannelMomentKernels
{
    /// <summary>How many vectors a float accumulator takes before it is added into the row's double total.</summary>
    private const int FlushVectors = 128;

    /// <summary>The fewest values a work item (a range of whole rows) holds, unless the tensor itself is smaller.</summary>
    private const long MinValuesPerRange = 1 << 16;

    /// <summary>Whether the kernels can read the tensor: float32 on the CPU, contiguous, rank ≥ 2, non-empty, and addressable by a span.</summary>
    public static bool Applies(Tensor x) =>
        x.device_type == DeviceType.CPU && x.dtype == ScalarType.Float32 && x.dim() >= 2 && x.numel() > 0
        && x.numel() <= int.MaxValue / sizeof(float) && x.is_contiguous();

    /// <summary>
    /// Per row of <paramref name="x"/> (N×C×…, see <see cref="Applies"/>): <paramref name="mean"/>[n,c] = E[x],
    /// <paramref name="meanSquare"/>[n,c] = E[x²] (both N×C float32, contiguous, written here); and, when
    /// <paramref name="output"/> is given (x's shape), output = α_c·x + β_c.
    /// </summary>
    public static void Forward(Tensor x, Tensor mean, Tensor meanSquare, Tensor? output = null, float[]? alpha = null, float[]? beta = null)
    {
        var (rows, channels, positions) = Rows(x);
        var sums = new double[rows];
        var squares = new double[rows];
        ForRanges(rows, positions, (first, end) =>
        {
            var values = Floats(x);
            var written = output is null ? default : Floats(output);
            for (long r = first; r < end; r++)
            {
                int start = checked((int)(r * positions));
                var row = values.Slice(start, (int)positions);
                int c = (int)(r % channels);
                (sums[r], squares[r]) = output is null
                    ? MomentsAndAffine(row, default, 0f, 0f)
                    : MomentsAndAffine(row, written.Slice(start, (int)positions), alpha![c], beta![c]);
            }
        });

        var means = Floats(mean);
        var meanSquares = Floats(meanSquare);
        for (int r = 0; r < sums.Length; r++)
        {
            means[r] = (float)(sums[r] / positions);
            meanSquares[r] = (float)(squares[r] / positions);
        }
    }

    /// <summary>
    /// Writes into <paramref name="inputGradient"/> (x's shape) g_y·α_c + g_μ/P + (2·g_{μ²}/P)·x per row, where g_y is
    /// <paramref name="outputGradient"/> (x's shape; null for none, then α is not read) and g_μ, g_{μ²} are the N×C
    /// gradients of the moments (null for zero).
    /// </summary>
    public static void Backward(Tensor x, Tensor? outputGradient, float[]? alpha, Tensor? meanGradient, Tensor? meanSquareGradient, Tensor inputGradient)
    {
        var (rows, channels, positions) = Rows(x);
        var offsets = PerRow(meanGradient, rows, 1.0 / positions);
        var slopes = PerRow(meanSquareGradient, rows, 2.0 / positions);
        ForRanges(rows, positions, (first, end) =>
        {
            var values = Floats(x);
            var upstream = outputGradient is null ? default : Floats(outputGradient);
            var written = Floats(inputGradient);
            for (long r = first; r < end; r++)
            {
                int start = (int)(r * positions);
                var row = values.Slice(start, (int)positions);
                var target = written.Slice(start, (int)positions);
                if (outputGradient is null)
                {
                    Affine(row, target, slopes[r], offsets[r]);
                }
                else
                {
                    AffinePlusScaled(row, upstream.Slice(start, (int)positions), alpha![(int)(r % channels)], slopes[r], offsets[r], target);
                }
            }
        });
    }

    private static (long Rows, long Channels, long Positions) Rows(Tensor x)
    {
        long channels = x.shape[1];
        long rows = x.shape[0] * channels;
        return (rows, channels, x.numel() / rows);
    }

    private static Span<float> Floats(Tensor tensor) => MemoryMarshal.Cast<byte, float>(tensor.bytes);

    private static float[] PerRow(Tensor? gradient, long rows, double factor)
    {
        var result = new float[rows];
        if (gradient is null || gradient.IsInvalid)
        {
            return result;
        }

        using var dense = gradient.to(ScalarType.Float32).cpu().contiguous();
        var values = dense.data<float>().ToArray();
        for (int r = 0; r < result.Length; r++)
        {
            result[r] = (float)(values[r] * factor);
        }

        return result;
    }

    private static void ForRanges(long rows, long positions, Action<long, long> body)
    {
        int threads = Math.Max(1, get_num_threads());
        long rowsPerRange = Math.Max(1, Math.Max(rows / (4L * threads), MinValuesPerRange / positions));
        long ranges = (rows + rowsPerRange - 1) / rowsPerRange;
        if (ranges <= 1 || threads == 1)
        {
            body(0, rows);
            return;
        }

        Parallel.For(0L, ranges, new ParallelOptions { MaxDegreeOfParallelism = threads },
            i => body(i * rowsPerRange, Math.Min(rows, (i + 1) * rowsPerRange)));
    }

    /// <summary>A row's sum and sum of squares; and, when <paramref name="output"/> is not empty, output = α·x + β.</summary>
    private static (double Sum, double Squares) MomentsAndAffine(ReadOnlySpan<float> row, Span<float> output, float alpha, float beta)
    {
        bool write = !output.IsEmpty;
        var vectors = MemoryMarshal.Cast<float, Vector<float>>(row);
        var written = MemoryMarshal.Cast<float, Vector<float>>(output);
        var a = new Vector<float>(alpha);
        var b = new Vector<float>(beta);
        double sum = 0, squares = 0;
        for (int start = 0; start < vectors.Length; start += FlushVectors)
        {
            var s = Vector<float>.Zero;
            var q = Vector<float>.Zero;
            int end = Math.Min(vectors.Length, start + FlushVectors);
            for (int i = start; i < end; i++)
            {
                var v = vectors[i];
                s += v;
                q += v * v;
                if (write)
                {
                    written[i] = (v * a) + b;
                }
            }

            sum += Vector.Sum(s);
            squares += Vector.Sum(q);
        }

        for (int i = vectors.Length * Vector<float>.Count; i < row.Length; i++)
        {
            float v = row[i];
            sum += v;
            squares += (double)v * v;
            if (write)
            {
                output[i] = (v * alpha) + beta;
            }
        }

        return (sum, squares);
    }

    private static void Affine(ReadOnlySpan<float> row, Span<float> output, float slope, float offset)
    {
        var vectors = MemoryMarshal.Cast<float, Vector<float>>(row);
        var written = MemoryMarshal.Cast<float, Vector<float>>(output);
        var m = new Vector<float>(slope);
        var o = new Vector<float>(offset);
        for (int i = 0; i < vectors.Length; i++)
        {
            written[i] = vectors[i] * m + o;
        }

        for (int i = vectors.Length * Vector<float>.Count; i < row.Length; i++)
        {
            output[i] = row[i] * slope + offset;
        }
    }

    private static void AffinePlusScaled(ReadOnlySpan<float> row, ReadOnlySpan<float> upstream, float alpha, float slope, float offset, Span<float> output)
    {
        var vectors = MemoryMarshal.Cast<float, Vector<float>>(row);
        var gradients = MemoryMarshal.Cast<float, Vector<float>>(upstream);
        var written = MemoryMarshal.Cast<float, Vector<float>>(output);
        var a = new Vector<float>(alpha);
        var m = new Vector<float>(slope);
        var o = new Vector<float>(offset);
        for (int i = 0; i < vectors.Length; i++)
        {
            written[i] = gradients[i] * a + vectors[i] * m + o;
        }

        for (int i = vectors.Length * Vector<float>.Count; i < row.Length; i++)
        {
            output[i] = upstream[i] * alpha + row[i] * slope + offset;
        }
    }
}
