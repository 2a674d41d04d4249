namespace Dsg.Core.Graph;

/// <summary>What a forward pass records besides the graph outputs.</summary>
[Flags]
public enum ForwardCapture
{
    /// <summary>Only the outputs.</summary>
    None = 0,

    /// <summary>The input tensor of every BatchNormalization layer (<see cref="TorchGraph.BatchNormLayers"/> order).</summary>
    BatchNormInputs = 1,

    /// <summary>The input of the last Gemm/MatMul node, flattened to N x D (penultimate features).</summary>
    Features = 2,

    /// <summary>
    /// The per-sample, per-channel moments E[x] and E[x²] of every BatchNormalization layer's input, taken by the layer
    /// itself in the same pass (<see cref="GraphOutputs.BatchNormMoments"/>) rather than from a captured input.
    /// </summary>
    BatchNormMoments = 4,
}
