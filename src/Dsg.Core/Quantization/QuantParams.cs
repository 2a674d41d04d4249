namespace Dsg.Core.Quantization;

/// <summary>
/// Affine quantization parameters of one tensor (or channel): q = clamp(round(x / Scale) + ZeroPoint, QMin, QMax),
/// x̂ = (q − ZeroPoint) × Scale. Rounding is half to even, as ONNX QuantizeLinear does.
/// </summary>
/// <param name="Scale">The step between neighbouring levels (positive).</param>
/// <param name="ZeroPoint">The integer that represents 0.0.</param>
/// <param name="Grid">The allowed integers.</param>
public readonly record struct QuantParams(float Scale, int ZeroPoint, IntegerGrid Grid)
{
    /// <summary>Asymmetric parameters that cover [min, max] (widened to include 0, so zero is exact).</summary>
    public static QuantParams FromRange(float min, float max, IntegerGrid grid)
    {
        double lo = Math.Min(min, 0.0), hi = Math.Max(max, 0.0);
        double scale = (hi - lo) / (grid.QMax - grid.QMin);
        if (!(scale > 1e-30) || !double.IsFinite(scale))
        {
            return new QuantParams(1f, 0 >= grid.QMin && 0 <= grid.QMax ? 0 : grid.QMin, grid);
        }

        float s = (float)scale;
        int zero = (int)Math.Clamp(Math.Round(grid.QMin - lo / s, MidpointRounding.ToEven), grid.QMin, grid.QMax);
        return new QuantParams(s, zero, grid);
    }

    /// <summary>Symmetric parameters (zero point 0) for values in [−absMax, absMax].</summary>
    public static QuantParams Symmetric(float absMax, IntegerGrid grid)
    {
        float s = absMax > 1e-30f && float.IsFinite(absMax) ? absMax / grid.QMax : 1f;
        return new QuantParams(s, 0, grid);
    }

    /// <summary>The integer for <paramref name="x"/>.</summary>
    public int Quantize(float x)
    {
        double q = Math.Round((double)(x / Scale), MidpointRounding.ToEven) + ZeroPoint;
        return (int)Math.Clamp(q, Grid.QMin, Grid.QMax);
    }

    /// <summary>The float an integer stands for.</summary>
    public float Dequantize(int q) => (q - ZeroPoint) * Scale;

    /// <summary>Quantize then dequantize.</summary>
    public float FakeQuantize(float x) => Dequantize(Quantize(x));

    /// <summary>The smallest float that quantizes without saturating: (QMin − ZeroPoint) × Scale.</summary>
    public float RangeMin => (Grid.QMin - ZeroPoint) * Scale;

    /// <summary>The largest float that quantizes without saturating: (QMax − ZeroPoint) × Scale.</summary>
    public float RangeMax => (Grid.QMax - ZeroPoint) * Scale;
}
