using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Onnx;

/// <summary>Producer and consumer lookups over one graph (a snapshot: rebuild it after editing the graph).</summary>
internal sealed class GraphIndex
{
    private readonly Dictionary<string, NodeProto> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<(NodeProto Node, int Input)>> _consumers = new(StringComparer.Ordinal);

    public GraphIndex(GraphProto graph)
    {
        Graph = graph;
        foreach (var node in graph.Node)
        {
            foreach (var output in node.Output.Where(o => o.Length > 0))
            {
                _producers[output] = node;
            }

            for (int i = 0; i < node.Input.Count; i++)
            {
                if (node.Input[i].Length == 0)
                {
                    continue;
                }

                if (!_consumers.TryGetValue(node.Input[i], out var list))
                {
                    _consumers[node.Input[i]] = list = [];
                }

                list.Add((node, i));
            }
        }

        Initializers = graph.Initializer.GroupBy(t => t.Name).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        GraphOutputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        GraphInputs = graph.Input.Select(i => i.Name).Where(n => !Initializers.ContainsKey(n)).ToHashSet(StringComparer.Ordinal);
    }

    public GraphProto Graph { get; }

    public IReadOnlyDictionary<string, TensorProto> Initializers { get; }

    public IReadOnlySet<string> GraphOutputs { get; }

    public IReadOnlySet<string> GraphInputs { get; }

    public NodeProto? Producer(string tensor) => _producers.GetValueOrDefault(tensor);

    public IReadOnlyList<(NodeProto Node, int Input)> Consumers(string tensor) =>
        _consumers.TryGetValue(tensor, out var list) ? list : [];

    public bool IsInitializer(string tensor) => Initializers.ContainsKey(tensor);

    public static bool IsDefaultDomain(NodeProto node) => OnnxDomain.IsDefault(node.Domain);

    public static long IntAttribute(NodeProto node, string name, long fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : fallback;

    public static float FloatAttribute(NodeProto node, string name, float fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.F : fallback;

    /// <summary>A tensor name not used in the graph yet, starting from <paramref name="wanted"/>.</summary>
    public static string UniqueName(GraphProto graph, string wanted, ISet<string> taken)
    {
        if (taken.Count == 0)
        {
            foreach (var n in graph.Node)
            {
                taken.UnionWith(n.Input);
                taken.UnionWith(n.Output);
            }

            taken.UnionWith(graph.Initializer.Select(t => t.Name));
            taken.UnionWith(graph.Input.Select(t => t.Name));
            taken.UnionWith(graph.Output.Select(t => t.Name));
        }

        string name = wanted;
        for (int k = 1; taken.Contains(name); k++)
        {
            name = $"{wanted}_{k}";
        }

        taken.Add(name);
        return name;
    }

    /// <summary>Removes nodes none of whose outputs is used by another node or a graph output (repeatedly).</summary>
    public static void RemoveDeadNodes(GraphProto graph)
    {
        var outputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        while (true)
        {
            var used = graph.Node.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
            var dead = graph.Node.Where(n => n.Output.All(o => !used.Contains(o) && !outputs.Contains(o))).ToList();
            if (dead.Count == 0)
            {
                return;
            }

            foreach (var node in dead)
            {
                graph.Node.Remove(node);
            }
        }
    }

    /// <summary>Removes initializers (and their graph-input entries) that no node and no graph output uses.</summary>
    public static void RemoveUnusedInitializers(GraphProto graph)
    {
        var used = graph.Node.SelectMany(n => n.Input).Concat(graph.Output.Select(o => o.Name)).ToHashSet(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            foreach (var attribute in node.Attribute)
            {
                foreach (var g in attribute.Graphs.Append(attribute.G).OfType<GraphProto>())
                {
                    used.UnionWith(g.Node.SelectMany(n => n.Input));
                }
            }
        }

        var unused = graph.Initializer.Where(t => !used.Contains(t.Name)).ToList();
        foreach (var t in unused)
        {
            graph.Initializer.Remove(t);
            var input = graph.Input.FirstOrDefault(i => i.Name == t.Name);
            if (input is not null)
            {
                graph.Input.Remove(input);
            }
        }
    }

    /// <summary>
    /// The constant value of a tensor: an initializer, a Constant node's value, or either seen through Identity nodes
    /// (PyTorch shares equal initializers that way); null when the tensor is computed.
    /// </summary>
    public TensorProto? Constant(string name)
    {
        for (int depth = 0; depth < 16; depth++)
        {
            if (Initializers.TryGetValue(name, out var tensor))
            {
                return tensor;
            }

            var producer = Producer(name);
            if (producer is null || !IsDefaultDomain(producer))
            {
                return null;
            }

            if (producer.OpType == "Constant")
            {
                return producer.Attribute.FirstOrDefault(a => a.Name == "value")?.T;
            }

            if (producer.OpType != "Identity" || producer.Input.Count != 1)
            {
                return null;
            }

            name = producer.Input[0];
        }

        return null;
    }

    /// <summary>The float values of a constant tensor (see <see cref="Constant"/>).</summary>
    public float[] Floats(string name, OnnxModel model) =>
        OnnxTensor.ToFloats(Constant(name) ?? throw new InvalidOperationException($"'{name}' is not a constant."), model);
}
