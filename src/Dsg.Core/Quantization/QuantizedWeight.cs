namespace Dsg.Core.Quantization;

/// <summary>A weight tensor quantized symmetrically per channel: value ≈ Values[i] × Scales[channel of i].</summary>
/// <param name="Values">The integers, in the tensor's original layout; every one lies on <paramref name="Grid"/>.</param>
/// <param name="Scales">One scale per channel along <paramref name="Axis"/>.</param>
/// <param name="Axis">The channel axis (0 for Conv, 1 for ConvTranspose and untransposed Gemm/MatMul weights).</param>
/// <param name="Dims">The tensor's shape.</param>
/// <param name="Grid">The symmetric integer grid.</param>
/// <param name="SqnrDb">Signal-to-quantization-noise ratio of the dequantized weight, in dB.</param>
public sealed record QuantizedWeight(sbyte[] Values, float[] Scales, int Axis, long[] Dims, IntegerGrid Grid, double SqnrDb)
{
    /// <summary>The dequantized values (integer × its channel's scale).</summary>
    public float[] Dequantize()
    {
        var (_, channels, inner) = WeightQuantizer.Split(Dims, Axis);
        var result = new float[Values.Length];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = Values[i] * Scales[(int)(i / inner % channels)];
        }

        return result;
    }
}
