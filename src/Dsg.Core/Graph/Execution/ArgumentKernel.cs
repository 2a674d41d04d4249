using static TorchSharp.torch;

namespace Dsg.Core.Graph.Execution;

/// <summary>A one-output kernel given by a function of all its inputs.</summary>
internal sealed class ArgumentKernel(ArgumentKernel.Function function) : SingleOutputKernel
{
    /// <summary>The computation.</summary>
    public delegate Tensor Function(ReadOnlySpan<Tensor?> inputs);

    protected override Tensor Compute(ReadOnlySpan<Tensor?> inputs) => function(inputs);
}
