namespace Dsg.Core.Quantization;

/// <summary>A weight site and what quantizing it produced.</summary>
/// <param name="Site">The planned site.</param>
/// <param name="Weight">The quantized values and scales.</param>
/// <param name="QuantizedName">The int8 initializer's name in the written model.</param>
public sealed record WeightQuantization(WeightSite Site, QuantizedWeight Weight, string QuantizedName);
