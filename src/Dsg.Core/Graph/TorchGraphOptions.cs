namespace Dsg.Core.Graph;

/// <summary>How to build a <see cref="TorchGraph"/>.</summary>
/// <param name="InputShape">
/// C,H,W of the image input (everything after the batch). Required when the model leaves a non-batch input
/// dimension dynamic; when the model's dimension is static the two must agree.
/// </param>
/// <param name="Device">"cpu", "cuda", "cuda:N" or "auto" (CUDA when TorchSharp has a CUDA runtime, else CPU).</param>
public sealed record TorchGraphOptions(IReadOnlyList<long>? InputShape = null, string Device = "cpu");
