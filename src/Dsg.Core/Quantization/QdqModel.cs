using Dsg.Core.Onnx;

namespace Dsg.Core.Quantization;

/// <summary>A quantized QDQ model and what was written into it.</summary>
/// <param name="Model">The QDQ model.</param>
/// <param name="Weights">Each quantized weight.</param>
/// <param name="Activations">Each quantized activation.</param>
/// <param name="Int32Biases">How many biases were stored as int32.</param>
public sealed record QdqModel(OnnxModel Model, IReadOnlyList<WeightQuantization> Weights, IReadOnlyList<ActivationQdq> Activations, int Int32Biases);
