namespace Dsg.Core.Pipeline;

/// <summary>One quantized activation in a report.</summary>
/// <param name="Tensor">The fp32 tensor's name.</param>
/// <param name="Role">Why it is quantized.</param>
/// <param name="Bits">Width.</param>
/// <param name="ObservedMin">Smallest calibration value.</param>
/// <param name="ObservedMax">Largest calibration value.</param>
/// <param name="RangeMin">Lowest value representable without saturation.</param>
/// <param name="RangeMax">Highest value representable without saturation.</param>
/// <param name="Scale">QuantizeLinear scale.</param>
/// <param name="ZeroPoint">QuantizeLinear zero point (uint8).</param>
/// <param name="SqnrDb">SQNR against fp32 on the held-out samples, in dB.</param>
public sealed record ActivationReport(string Tensor, string Role, int Bits, float ObservedMin, float ObservedMax,
    float RangeMin, float RangeMax, float Scale, int ZeroPoint, double SqnrDb);
