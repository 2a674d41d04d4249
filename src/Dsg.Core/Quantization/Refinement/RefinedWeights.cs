namespace Dsg.Core.Quantization.Refinement;

/// <summary>What a refinement learned, for <see cref="Qdq.QdqWriter"/>, and what it did per layer.</summary>
/// <param name="Weights">The learned weights by initializer name: the nearest rounding's scales and grid, new integers.</param>
/// <param name="Layers">Each refined layer, in graph order.</param>
/// <param name="Activations">
/// Learned activation parameters by tensor name (BRECQ's step sizes; same zero point and grid as calibrated), replacing the
/// calibrated ones; null or empty: the calibrated parameters stand.
/// </param>
/// <param name="Biases">Learned biases by initializer name (QAT), replacing the folded model's; null or empty: the folded ones stand.</param>
public sealed record RefinedWeights(IReadOnlyDictionary<string, QuantizedWeight> Weights, IReadOnlyList<LayerRefinement> Layers,
    IReadOnlyDictionary<string, QuantParams>? Activations = null, IReadOnlyDictionary<string, float[]>? Biases = null)
{
    /// <summary>No refinement: every weight is rounded to nearest.</summary>
    public static RefinedWeights None { get; } = new(new Dictionary<string, QuantizedWeight>(StringComparer.Ordinal), []);

    /// <summary><paramref name="calibrated"/> with the learned activation parameters in place of the calibrated ones.</summary>
    public IReadOnlyList<ActivationCalibration> Apply(IReadOnlyList<ActivationCalibration> calibrated)
    {
        ArgumentNullException.ThrowIfNull(calibrated);
        return Activations is not { Count: > 0 } learned
            ? calibrated
            : calibrated.Select(a => learned.TryGetValue(a.Site.Tensor, out var p) ? a with { Params = p } : a).ToList();
    }
}
