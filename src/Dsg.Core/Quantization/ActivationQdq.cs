namespace Dsg.Core.Quantization;

/// <summary>The nodes written for one activation: its QuantizeLinear output (int8) and DequantizeLinear output (float).</summary>
/// <param name="Calibration">The calibrated site.</param>
/// <param name="QuantizedName">The QuantizeLinear output's name.</param>
/// <param name="DequantizedName">The DequantizeLinear output's name (what the consumers now read).</param>
/// <param name="Clipped">Whether a Clip limits the values to the site's 2^b levels before QuantizeLinear (widths below 8).</param>
public sealed record ActivationQdq(ActivationCalibration Calibration, string QuantizedName, string DequantizedName, bool Clipped);
