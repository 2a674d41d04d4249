namespace Dsg.Core.Quantization.Observers;

/// <summary>A running min/max over everything an observer has seen.</summary>
internal struct ObservedRange
{
    private bool _any;

    public float Min { get; private set; }

    public float Max { get; private set; }

    public readonly (float Min, float Max) Value => _any ? (Min, Max) : (float.NaN, float.NaN);

    public readonly bool Any => _any;

    public void Add(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty)
        {
            return;
        }

        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        bool finite = true;
        foreach (float v in values)
        {
            finite &= float.IsFinite(v);
            lo = Math.Min(lo, v);
            hi = Math.Max(hi, v);
        }

        if (!finite)
        {
            throw new DsgException(ErrorCodes.CalibrationNotFinite,
                "The fp32 model produced NaN or infinity while calibrating: the calibration samples do not fit the model.",
                "Check that the calibration data is in the model's input space (normalised the way the model was trained).");
        }

        Min = _any ? Math.Min(Min, lo) : lo;
        Max = _any ? Math.Max(Max, hi) : hi;
        _any = true;
    }
}
