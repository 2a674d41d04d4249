using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Onnx.Import;

/// <summary>Hands out tensor names that no node, initializer, input or output of a graph uses yet.</summary>
internal sealed class GraphNames
{
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public GraphNames(GraphProto graph)
    {
        _used.UnionWith(graph.Input.Select(i => i.Name));
        _used.UnionWith(graph.Output.Select(o => o.Name));
        _used.UnionWith(graph.Initializer.Select(t => t.Name));
        foreach (var node in graph.Node)
        {
            _used.UnionWith(node.Input);
            _used.UnionWith(node.Output);
        }
    }

    /// <summary>A fresh name that starts with <paramref name="stem"/>.</summary>
    public string Fresh(string stem)
    {
        string candidate = stem;
        for (int i = 1; !_used.Add(candidate); i++)
        {
            candidate = $"{stem}_{i}";
        }

        return candidate;
    }
}
