using static TorchSharp.torch;

namespace Dsg.Core.Graph.Execution;

/// <summary>
/// An int64 list a node takes either from an attribute (older opsets) or from an input: read once at load when
/// it is known then, read from the run-time tensor otherwise, and null when absent.
/// </summary>
internal sealed class Int64sArgument
{
    private readonly long[]? _constant;
    private readonly int _inputIndex;

    private Int64sArgument(long[]? constant, int inputIndex)
    {
        _constant = constant;
        _inputIndex = inputIndex;
    }

    /// <summary>Whether a value is given at all.</summary>
    public bool IsPresent => _constant is not null || _inputIndex >= 0;

    /// <summary>Whether the value is known at load.</summary>
    public bool IsConstant => _constant is not null;

    /// <summary>The value known at load, if any.</summary>
    public long[]? Constant => _constant;

    /// <summary>From an attribute.</summary>
    public static Int64sArgument FromAttribute(NodeContext node, string name) => new(node.Ints(name), -1);

    /// <summary>From an optional input.</summary>
    public static Int64sArgument FromInput(NodeContext node, int index) =>
        !node.HasInput(index) ? new(null, -1)
        : node.ConstantInt64s(index) is { } values ? new(values, -1)
        : new(null, index);

    /// <summary>From the attribute before <paramref name="inputSinceOpset"/> and from the input after.</summary>
    public static Int64sArgument FromAttributeOrInput(NodeContext node, string name, int index, long inputSinceOpset) =>
        node.Opset < inputSinceOpset || node.HasAttribute(name) ? FromAttribute(node, name) : FromInput(node, index);

    /// <summary>The value for this run; null when absent.</summary>
    public long[]? Read(ReadOnlySpan<Tensor?> inputs) =>
        _constant ?? (_inputIndex >= 0 && _inputIndex < inputs.Length && inputs[_inputIndex] is { } t ? TensorValues.ToInt64s(t) : null);
}
