using Dsg.Core.Onnx;

namespace Dsg.Core.Quantization;

/// <summary>Everything one quantization run produced.</summary>
/// <param name="Folded">The BN-folded fp32 model (the reference the quantized model approximates).</param>
/// <param name="FoldedBatchNorms">How many BatchNormalization nodes were folded.</param>
/// <param name="Plan">What was quantized.</param>
/// <param name="Activations">The calibrated activations.</param>
/// <param name="Qdq">The written QDQ model and its sites.</param>
public sealed record QuantizationResult(OnnxModel Folded, int FoldedBatchNorms, QuantizationPlan Plan,
    IReadOnlyList<ActivationCalibration> Activations, QdqModel Qdq)
{
    /// <summary>What refinement learned (<see cref="Refinement.RefinedWeights.None"/> without refinement).</summary>
    public Refinement.RefinedWeights Refinement { get; init; } = Dsg.Core.Quantization.Refinement.RefinedWeights.None;

    /// <summary>The quantized model.</summary>
    public OnnxModel Model => Qdq.Model;
}
