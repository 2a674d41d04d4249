using Dsg.Core.Onnx.Proto;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Execution;

/// <summary>What an operator sees of one node while its kernel is built: attributes, constant inputs, used outputs.</summary>
internal sealed class NodeContext
{
    private readonly Func<string, Tensor?> _constantOf;
    private readonly Func<string, bool> _isConsumed;
    private readonly Action<Tensor> _own;
    private readonly Dictionary<string, AttributeProto> _attributes;

    public NodeContext(NodeProto node, long opset, Device device, Func<string, Tensor?> constantOf,
        Func<string, bool> isConsumed, Action<Tensor> own)
    {
        Node = node;
        Opset = opset;
        Device = device;
        _constantOf = constantOf;
        _isConsumed = isConsumed;
        _own = own;
        _attributes = node.Attribute.GroupBy(a => a.Name).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        DisplayName = DescribeNode(node);
    }

    /// <summary>The node.</summary>
    public NodeProto Node { get; }

    /// <summary>"Conv 'name'" or "Conv -> output" for messages.</summary>
    public string DisplayName { get; }

    /// <summary>The opset version of the default domain.</summary>
    public long Opset { get; }

    /// <summary>The device tensors live on.</summary>
    public Device Device { get; }

    /// <summary>The number of input positions (absent optional inputs included).</summary>
    public int InputCount => Node.Input.Count;

    /// <summary>The number of output positions.</summary>
    public int OutputCount => Node.Output.Count;

    /// <summary>A node description for messages.</summary>
    public static string DescribeNode(NodeProto node) =>
        string.IsNullOrEmpty(node.Name) ? $"{node.OpType} node producing '{string.Join("', '", node.Output)}'" : $"{node.OpType} node '{node.Name}'";

    /// <summary>Whether input <paramref name="index"/> is given (present and not the empty name).</summary>
    public bool HasInput(int index) => index < Node.Input.Count && Node.Input[index].Length > 0;

    /// <summary>Whether output <paramref name="index"/> is consumed by another node or is a graph output.</summary>
    public bool IsOutputUsed(int index) => index < Node.Output.Count && Node.Output[index].Length > 0 && _isConsumed(Node.Output[index]);

    /// <summary>Whether input <paramref name="index"/> is known at load time.</summary>
    public bool IsConstant(int index) => HasInput(index) && _constantOf(Node.Input[index]) is not null;

    /// <summary>The value of a constant input; null when absent or computed at run time.</summary>
    public Tensor? Constant(int index) => HasInput(index) ? _constantOf(Node.Input[index]) : null;

    /// <summary>A constant input's values as int64; null when absent or computed at run time.</summary>
    public long[]? ConstantInt64s(int index) => Constant(index) is { } t ? TensorValues.ToInt64s(t) : null;

    /// <summary>A constant input's values as double; null when absent or computed at run time.</summary>
    public double[]? ConstantDoubles(int index) => Constant(index) is { } t ? TensorValues.ToDoubles(t) : null;

    /// <summary>Registers a tensor built at load (for example a pre-transposed weight) as owned by the graph.</summary>
    public Tensor Own(Tensor tensor)
    {
        _own(tensor);
        return tensor;
    }

    /// <summary>Whether the attribute is present.</summary>
    public bool HasAttribute(string name) => _attributes.ContainsKey(name);

    /// <summary>An integer attribute.</summary>
    public long Int(string name, long defaultValue) => _attributes.TryGetValue(name, out var a) ? a.I : defaultValue;

    /// <summary>A float attribute.</summary>
    public float Float(string name, float defaultValue) => _attributes.TryGetValue(name, out var a) ? a.F : defaultValue;

    /// <summary>A string attribute.</summary>
    public string String(string name, string defaultValue) =>
        _attributes.TryGetValue(name, out var a) ? a.S.ToStringUtf8() : defaultValue;

    /// <summary>An integer-list attribute; null when absent.</summary>
    public long[]? Ints(string name) => _attributes.TryGetValue(name, out var a) ? a.Ints.ToArray() : null;

    /// <summary>A float-list attribute; null when absent.</summary>
    public float[]? Floats(string name) => _attributes.TryGetValue(name, out var a) ? a.Floats.ToArray() : null;

    /// <summary>The attribute itself; null when absent.</summary>
    public AttributeProto? Attribute(string name) => _attributes.GetValueOrDefault(name);

    /// <summary>A DSG0205 error about this node.</summary>
    public DsgException Unsupported(string what) =>
        new(ErrorCodes.UnsupportedNode,
            $"{DisplayName}: {what}",
            "This form of the operator is not supported by the executor (docs/operators.md lists what is). " +
            "Re-export the model with a different opset or without this construct.");

    /// <summary>Throws DSG0205 unless the string attribute is one of <paramref name="allowed"/>.</summary>
    public string Choice(string name, string defaultValue, params string[] allowed)
    {
        var value = String(name, defaultValue);
        if (!allowed.Contains(value, StringComparer.Ordinal))
        {
            throw Unsupported($"attribute {name}='{value}' is not supported (supported: {string.Join(", ", allowed)}).");
        }

        return value;
    }
}
