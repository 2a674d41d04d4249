namespace Dsg.Core.Quantization;

/// <summary>A weight site and what quantizing it produced.</summary>
/// <param name="Site">The planned site.</param>
/// <param name="Weight">The quantized values and scales.</param>
/// <param name="QuantizedName">The stored initializer's name in the written model (int8 below 8 bits, uint8 q + 128 at 8 bits).</param>
public sealed record WeightQuantization(WeightSite Site, QuantizedWeight Weight, string QuantizedName);
