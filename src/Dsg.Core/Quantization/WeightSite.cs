namespace Dsg.Core.Quantization;

/// <summary>A constant weight stored quantized (symmetric, per channel) behind a DequantizeLinear.</summary>
/// <param name="Node">The consuming node's name.</param>
/// <param name="OpType">The consuming node's operator.</param>
/// <param name="InputIndex">Which input of the node the weight is.</param>
/// <param name="Initializer">The float initializer's name.</param>
/// <param name="Axis">The per-channel axis.</param>
/// <param name="Bits">Its width, 2–8.</param>
/// <param name="DataInput">The node's activation input (whose scale the bias uses), or null.</param>
/// <param name="Position">"first", "last" or "" (middle), for the first/last-layer policy and reports.</param>
public sealed record WeightSite(string Node, string OpType, int InputIndex, string Initializer, int Axis, int Bits, string? DataInput, string Position);
