namespace Dsg.Core.Quantization;

/// <summary>A bias stored as int32 with scale = input scale × weight scale (per channel), zero point 0.</summary>
/// <param name="Node">The consuming node's name.</param>
/// <param name="InputIndex">Which input of the node the bias is.</param>
/// <param name="Initializer">The float initializer's name.</param>
/// <param name="ActivationTensor">The activation whose scale is the input scale.</param>
/// <param name="WeightInputIndex">The node's input index of the weight whose per-channel scales multiply in.</param>
public sealed record BiasSite(string Node, int InputIndex, string Initializer, string ActivationTensor, int WeightInputIndex);
