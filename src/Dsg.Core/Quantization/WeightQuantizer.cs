namespace Dsg.Core.Quantization;

/// <summary>
/// Quantizes weights symmetrically (zero point 0) per output channel. With <see cref="WeightRangeMethod.Mse"/>
/// each channel's clipping threshold is searched among 81 fractions (0.20 … 1.00) of its largest absolute value
/// and the one with the smallest squared error wins; <see cref="WeightRangeMethod.MinMax"/> uses the largest
/// absolute value itself.
/// </summary>
public static class WeightQuantizer
{
    /// <summary>Quantizes <paramref name="values"/> of shape <paramref name="dims"/> per channel along <paramref name="axis"/>.</summary>
    public static QuantizedWeight Quantize(ReadOnlySpan<float> values, long[] dims, int axis, int bits, WeightRangeMethod method)
    {
        if (axis < 0 || axis >= dims.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"Axis must lie within the weight's {dims.Length} dimensions.");
        }

        var grid = IntegerGrid.Symmetric(bits);
        var (outer, channels, inner) = Split(dims, axis);
        if (outer * channels * inner != values.Length)
        {
            throw new ArgumentException($"Shape ({string.Join(", ", dims)}) does not hold {values.Length} values.", nameof(dims));
        }

        var scales = new float[channels];
        var q = new sbyte[values.Length];
        var channel = new float[outer * inner];
        double signal = 0, noise = 0;
        for (long c = 0; c < channels; c++)
        {
            Gather(values, channel, c, channels, inner);
            float absMax = 0;
            foreach (float v in channel)
            {
                absMax = Math.Max(absMax, Math.Abs(v));
            }

            float threshold = method == WeightRangeMethod.Mse ? SearchThreshold(channel, absMax, grid) : absMax;
            var p = QuantParams.Symmetric(threshold, grid);
            scales[c] = p.Scale;
            for (long o = 0; o < outer; o++)
            {
                for (long i = 0; i < inner; i++)
                {
                    long index = (o * channels + c) * inner + i;
                    float v = values[(int)index];
                    int qi = p.Quantize(v);
                    q[index] = (sbyte)qi;
                    float r = v - p.Dequantize(qi);
                    signal += (double)v * v;
                    noise += (double)r * r;
                }
            }
        }

        return new QuantizedWeight(q, scales, axis, dims, grid, Sqnr.Decibels(signal, noise));
    }

    /// <summary>(product of dims before axis, dims[axis], product of dims after axis).</summary>
    internal static (long Outer, long Channels, long Inner) Split(long[] dims, int axis)
    {
        long outer = 1, inner = 1;
        for (int d = 0; d < axis; d++)
        {
            outer *= dims[d];
        }

        for (int d = axis + 1; d < dims.Length; d++)
        {
            inner *= dims[d];
        }

        return (outer, dims[axis], inner);
    }

    private static void Gather(ReadOnlySpan<float> values, float[] channel, long c, long channels, long inner)
    {
        int k = 0;
        long outer = channel.Length / inner;
        for (long o = 0; o < outer; o++)
        {
            values.Slice((int)((o * channels + c) * inner), (int)inner).CopyTo(channel.AsSpan(k, (int)inner));
            k += (int)inner;
        }
    }

    private static float SearchThreshold(float[] channel, float absMax, IntegerGrid grid)
    {
        if (absMax <= 0)
        {
            return absMax;
        }

        float best = absMax;
        double bestError = double.PositiveInfinity;
        for (int k = 100; k >= 20; k--)
        {
            float threshold = absMax * k / 100f;
            var p = QuantParams.Symmetric(threshold, grid);
            double error = 0;
            foreach (float v in channel)
            {
                float r = v - p.FakeQuantize(v);
                error += (double)r * r;
            }

            if (error < bestError)
            {
                bestError = error;
                best = threshold;
            }
        }

        return best;
    }
}
