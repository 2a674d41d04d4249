namespace Dsg.Core.Pipeline;

/// <summary>One quantized weight layer in a report.</summary>
/// <param name="Node">The node's name.</param>
/// <param name="OpType">Its operator.</param>
/// <param name="Position">"first", "last" or "".</param>
/// <param name="WeightBits">Weight width.</param>
/// <param name="WeightSqnrDb">SQNR of the dequantized weight against fp32 (BN-folded), in dB.</param>
/// <param name="Input">The quantized activation the layer reads, or null.</param>
/// <param name="InputBits">That activation's width, or null.</param>
/// <param name="InputSqnrDb">That activation's SQNR on the held-out samples, or null.</param>
public sealed record LayerReport(string Node, string OpType, string Position, int WeightBits, double WeightSqnrDb,
    string? Input, int? InputBits, double? InputSqnrDb);
