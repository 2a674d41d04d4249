using Dsg.Core.Graph;
using Dsg.Core.Graph.Execution;
using static TorchSharp.torch;

namespace Dsg.Core.Generation;

/// <summary>One forward pass: the first output, the pre-BN activation of every BN layer (when asked) and the penultimate features (when asked).</summary>
internal sealed record ModelPass(Tensor Output, IReadOnlyList<Tensor> BatchNormInputs, Tensor? Features)
{
    /// <summary>The convolution kernels the pass ran with, for its backward pass (<see cref="TorchGraph.Backward"/>).</summary>
    public ConvolutionKernels Kernels { get; init; }
}
