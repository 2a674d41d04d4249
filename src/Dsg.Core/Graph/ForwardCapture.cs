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
}
