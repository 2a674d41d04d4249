namespace Dsg.Core.Quantization.Refinement;

/// <summary>The weights a refinement learned, for <see cref="Qdq.QdqWriter"/>, and what it did per layer.</summary>
/// <param name="Weights">The learned weights by initializer name: the nearest rounding's scales and grid, new integers.</param>
/// <param name="Layers">Each refined layer, in graph order.</param>
public sealed record RefinedWeights(IReadOnlyDictionary<string, QuantizedWeight> Weights, IReadOnlyList<LayerRefinement> Layers)
{
    /// <summary>No refinement: every weight is rounded to nearest.</summary>
    public static RefinedWeights None { get; } = new(new Dictionary<string, QuantizedWeight>(StringComparer.Ordinal), []);
}
