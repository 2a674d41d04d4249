using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Onnx.Import;

/// <summary>What an opset adapter sees of the graph: attributes, new initializers and nodes, fresh names, ranks.</summary>
internal sealed class UpgradeContext
{
    private readonly GraphProto _graph;
    private readonly string _displayName;
    private readonly GraphNames _names;
    private readonly Dictionary<string, NodeProto> _producers;
    private readonly HashSet<string> _consumed;

    public UpgradeContext(GraphProto graph, string displayName, long opset)
    {
        _graph = graph;
        _displayName = displayName;
        Opset = opset;
        _names = new GraphNames(graph);
        _producers = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            foreach (var output in node.Output.Where(o => o.Length > 0))
            {
                _producers[output] = node;
            }
        }

        _consumed = graph.Node.SelectMany(n => n.Input).Concat(graph.Output.Select(o => o.Name)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The opset the graph is upgraded from.</summary>
    public long Opset { get; }

    public string Fresh(string stem) => _names.Fresh(stem);

    public bool Has(NodeProto node, string name) => node.Attribute.Any(a => a.Name == name);

    public long Int(NodeProto node, string name, long fallback) => Find(node, name)?.I ?? fallback;

    public float Float(NodeProto node, string name, float fallback) => Find(node, name)?.F ?? fallback;

    public string String(NodeProto node, string name, string fallback) => Find(node, name)?.S.ToStringUtf8() ?? fallback;

    public long[]? Ints(NodeProto node, string name) => Find(node, name) is { } a ? [.. a.Ints] : null;

    public float[]? Floats(NodeProto node, string name) => Find(node, name) is { } a ? [.. a.Floats] : null;

    /// <summary>Removes the named attributes; returns whether there were any.</summary>
    public bool RemoveAttributes(NodeProto node, params string[] names)
    {
        int before = node.Attribute.Count;
        for (int i = node.Attribute.Count - 1; i >= 0; i--)
        {
            if (names.Contains(node.Attribute[i].Name, StringComparer.Ordinal))
            {
                node.Attribute.RemoveAt(i);
            }
        }

        return node.Attribute.Count != before;
    }

    /// <summary>Moves an int-list attribute to input <paramref name="index"/> as an int64 initializer.</summary>
    /// <returns>Whether the attribute was there.</returns>
    public bool AttributeToInput(NodeProto node, string name, int index, bool required)
    {
        var values = Ints(node, name);
        RemoveAttributes(node, name);
        if (values is null)
        {
            if (required)
            {
                throw NodeRefused(node, $"the {name} attribute is missing");
            }

            return false;
        }

        while (node.Input.Count < index)
        {
            node.Input.Add("");
        }

        var initializer = Int64Initializer(node, name, values);
        if (node.Input.Count == index)
        {
            node.Input.Add(initializer);
        }
        else
        {
            node.Input.Insert(index, initializer);
        }

        return true;
    }

    /// <summary>Drops every output but the first (returns whether there were any); refuses when one of them is used.</summary>
    public bool KeepOnlyFirstOutput(NodeProto node)
    {
        int before = node.Output.Count;
        for (int i = node.Output.Count - 1; i >= 1; i--)
        {
            if (node.Output[i].Length > 0 && _consumed.Contains(node.Output[i]))
            {
                throw NodeRefused(node, $"its output {i} ('{node.Output[i]}') is used, and only the inference form (one output) converts");
            }

            node.Output.RemoveAt(i);
        }

        return node.Output.Count != before;
    }

    public string Int64Initializer(NodeProto node, string what, long[] values)
    {
        string name = Fresh($"{Stem(node)}_{what}");
        AddInitializer(OnnxTensor.FromInt64s(name, values, values.Length));
        return name;
    }

    public string FloatInitializer(NodeProto node, string what, float[] values, bool scalar = false)
    {
        string name = Fresh($"{Stem(node)}_{what}");
        AddInitializer(scalar ? OnnxTensor.FromFloats(name, values) : OnnxTensor.FromFloats(name, values, values.Length));
        return name;
    }

    public void AddInitializer(TensorProto tensor) => _graph.Initializer.Add(tensor);

    public void InsertBefore(NodeProto anchor, NodeProto node) => _graph.Node.Insert(_graph.Node.IndexOf(anchor), node);

    public void InsertAfter(NodeProto anchor, NodeProto node) => _graph.Node.Insert(_graph.Node.IndexOf(anchor) + 1, node);

    /// <summary>The rank of a tensor when the graph tells it: a declared input or value_info, or a producer whose output is 2-D.</summary>
    public long? RankOf(string tensor)
    {
        var declared = _graph.Input.Concat(_graph.ValueInfo).Concat(_graph.Output)
            .FirstOrDefault(v => v.Name == tensor)?.Type?.TensorType?.Shape;
        if (declared is not null)
        {
            return declared.Dim.Count;
        }

        return _producers.TryGetValue(tensor, out var producer) && producer.OpType is "Gemm" or "Flatten" ? 2 : null;
    }

    public DsgException NodeRefused(NodeProto node, string why) =>
        new(ErrorCodes.OpsetNotUpgradable,
            $"'{_displayName}' (opset {Opset}) cannot be upgraded to opset {ModelImporter.MinimumOpset}: {node.OpType} " +
            $"{(string.IsNullOrEmpty(node.Name) ? $"-> '{node.Output.FirstOrDefault()}'" : $"'{node.Name}'")}: {why}.",
            $"Re-export the model at opset {ModelImporter.MinimumOpset} or newer; docs/models.md lists the forms Dsg converts.")
        { FilePath = _displayName };

    private static AttributeProto? Find(NodeProto node, string name) => node.Attribute.LastOrDefault(a => a.Name == name);

    private static string Stem(NodeProto node) => string.IsNullOrEmpty(node.Name) ? node.Output.FirstOrDefault() ?? node.OpType : node.Name;
}
