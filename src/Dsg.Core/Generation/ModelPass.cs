using Dsg.Core.Graph;
using Dsg.Core.Graph.Execution;
using static TorchSharp.torch;

namespace Dsg.Core.Generation;

/// <summary>
/// One forward pass: the first output, the per-sample, per-channel mean and variance of every BN layer's input (when
/// asked; <see cref="ActivationStatistics.Moments"/>, each N×C) and the penultimate features (when asked).
/// </summary>
internal sealed record ModelPass(Tensor Output, IReadOnlyList<(Tensor Mean, Tensor Variance)> BatchNormMoments, Tensor? Features)
{
    /// <summary>The convolution kernels the pass ran with, for its backward pass (<see cref="TorchGraph.Backward"/>).</summary>
    public ConvolutionKernels Kernels { get; init; }
}
