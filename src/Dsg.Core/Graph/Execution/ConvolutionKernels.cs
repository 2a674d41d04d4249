namespace Dsg.Core.Graph.Execution;

/// <summary>Which convolution kernels a graph pass runs with (see <see cref="OneDnnConvolutionGuard"/>).</summary>
public enum ConvolutionKernels
{
    /// <summary>What the process runs with: oneDNN on a CPU where it is right, the native kernels where the guard switched it off.</summary>
    Process,

    /// <summary>oneDNN, on a CPU where it is wrong for some shapes but was checked right for this graph and batch size.</summary>
    OneDnn,

    /// <summary>libtorch's native kernels, on a CPU where oneDNN is wrong for some shapes including one of this graph's.</summary>
    Native,
}
