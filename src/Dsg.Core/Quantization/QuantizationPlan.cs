namespace Dsg.Core.Quantization;

/// <summary>What will be quantized in a BN-folded model, decided by the per-operator handlers before calibration.</summary>
/// <param name="Activations">Tensors that get Q/DQ pairs, in graph order.</param>
/// <param name="Weights">Weights stored quantized.</param>
/// <param name="Biases">Biases stored as int32.</param>
public sealed record QuantizationPlan(IReadOnlyList<ActivationSite> Activations, IReadOnlyList<WeightSite> Weights, IReadOnlyList<BiasSite> Biases);
