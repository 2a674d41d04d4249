using static TorchSharp.torch;

namespace Dsg.Core.Graph.Execution;

/// <summary>
/// The run-time half of one node: built once at load with every attribute parsed and every constant input
/// pre-read, then run on each forward pass. Absent optional inputs arrive as null. A kernel never returns
/// one of its input tensor objects (it returns a new tensor or an alias), so the executor can own every output.
/// </summary>
internal abstract class OperatorKernel
{
    /// <summary>Computes the node's outputs; unused optional outputs may be left null.</summary>
    public abstract void Run(ReadOnlySpan<Tensor?> inputs, Span<Tensor?> outputs);
}

/// <summary>A kernel with one output.</summary>
internal abstract class SingleOutputKernel : OperatorKernel
{
    /// <inheritdoc />
    public sealed override void Run(ReadOnlySpan<Tensor?> inputs, Span<Tensor?> outputs) => outputs[0] = Compute(inputs);

    /// <summary>Computes the only output.</summary>
    protected abstract Tensor Compute(ReadOnlySpan<Tensor?> inputs);
}

/// <summary>A one-output kernel of a function of the first input.</summary>
internal sealed class UnaryKernel(Func<Tensor, Tensor> function) : SingleOutputKernel
{
    protected override Tensor Compute(ReadOnlySpan<Tensor?> inputs) => function(inputs[0]!);
}

/// <summary>A one-output kernel of a function of the first two inputs.</summary>
internal sealed class BinaryKernel(Func<Tensor, Tensor, Tensor> function) : SingleOutputKernel
{
    protected override Tensor Compute(ReadOnlySpan<Tensor?> inputs) => function(inputs[0]!, inputs[1]!);
}
