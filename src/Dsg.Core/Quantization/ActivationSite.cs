namespace Dsg.Core.Quantization;

/// <summary>A float tensor that gets a QuantizeLinear/DequantizeLinear pair.</summary>
/// <param name="Tensor">The tensor's name in the (BN-folded) model.</param>
/// <param name="Bits">Its width, 2–8.</param>
/// <param name="Role">Why it is quantized, for reports (for example "input of Conv 'conv1'").</param>
public sealed record ActivationSite(string Tensor, int Bits, string Role);
