namespace Dsg.Core.Quantization;

/// <summary>
/// A BatchNormalization <see cref="BatchNormFolder"/> folded into the convolution before it, as the statistics it keeps:
/// on its training data the folded convolution's output has per-channel mean β and standard deviation
/// |γ|·sqrt(v / (v + ε)) (the BatchNorm's output statistics when its input has its running mean and variance).
/// </summary>
/// <param name="Tensor">The tensor the folded convolution produces (the BatchNorm's output).</param>
/// <param name="Mean">β per channel.</param>
/// <param name="Std">|γ|·sqrt(v / (v + ε)) per channel.</param>
public sealed record FoldedBatchNorm(string Tensor, float[] Mean, float[] Std);
