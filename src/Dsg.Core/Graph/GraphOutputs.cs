using Dsg.Core.Graph.Execution;
using static TorchSharp.torch;

namespace Dsg.Core.Graph;

/// <summary>
/// The result of <see cref="TorchGraph.Forward"/>. Every tensor here was moved to the caller's current
/// DisposeScope (or is unscoped when there is none): the caller owns and disposes them.
/// </summary>
public sealed class GraphOutputs
{
    internal GraphOutputs(IReadOnlyList<Tensor> outputs, IReadOnlyList<Tensor> batchNormInputs, Tensor? features, ConvolutionKernels kernels)
    {
        Kernels = kernels;
        Outputs = outputs;
        BatchNormInputs = batchNormInputs;
        Features = features;
    }

    /// <summary>The graph outputs in <see cref="TorchGraph.OutputNames"/> order.</summary>
    public IReadOnlyList<Tensor> Outputs { get; }

    /// <summary>
    /// With <see cref="ForwardCapture.BatchNormInputs"/>: the live (differentiable) input of each BatchNormalization
    /// layer, in <see cref="TorchGraph.BatchNormLayers"/> order; empty otherwise.
    /// </summary>
    public IReadOnlyList<Tensor> BatchNormInputs { get; }

    /// <summary>
    /// With <see cref="ForwardCapture.BatchNormMoments"/>: per BatchNormalization layer (in <see cref="TorchGraph.BatchNormLayers"/>
    /// order), the live per-sample, per-channel E[x] and E[x²] of its input over the positions, both N×C; empty otherwise.
    /// </summary>
    public IReadOnlyList<(Tensor Mean, Tensor MeanSquare)> BatchNormMoments { get; internal init; } = [];

    /// <summary>The convolution kernels the pass ran with: give them to <see cref="TorchGraph.Backward"/>.</summary>
    public ConvolutionKernels Kernels { get; }

    /// <summary>With <see cref="ForwardCapture.Features"/>: the input of the last Gemm/MatMul node as N x D; otherwise null (also when the graph has none).</summary>
    public Tensor? Features { get; }
}
