namespace Dsg.Core.Quantization;

/// <summary>The calibrated quantization of one activation tensor.</summary>
/// <param name="Site">The planned site.</param>
/// <param name="ObservedMin">The smallest value the fp32 model produced on the calibration samples.</param>
/// <param name="ObservedMax">The largest such value.</param>
/// <param name="Params">The chosen scale and zero point on the site's grid.</param>
public sealed record ActivationCalibration(ActivationSite Site, float ObservedMin, float ObservedMax, QuantParams Params);
