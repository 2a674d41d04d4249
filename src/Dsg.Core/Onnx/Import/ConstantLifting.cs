using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Onnx.Import;

/// <summary>
/// Turns the outputs of the top-level graph's <c>Constant</c> nodes into initializers of the same name (how
/// Paddle2ONNX and some converters store weights), and drops initializers from the graph inputs (IR 3 exporters listed
/// every weight as an input; ONNX Runtime then treats them as overridable and will not fold or fuse them).
/// </summary>
internal static class ConstantLifting
{
    /// <summary>Rewrites <paramref name="graph"/> in place and returns what changed.</summary>
    public static IEnumerable<string> Apply(GraphProto graph)
    {
        int lifted = 0;
        for (int i = graph.Node.Count - 1; i >= 0; i--)
        {
            var node = graph.Node[i];
            if (node.OpType != "Constant" || !OnnxDomain.IsDefault(node.Domain) || node.Output.Count != 1 || ValueOf(node) is not { } value)
            {
                continue;
            }

            value.Name = node.Output[0];
            graph.Initializer.Add(value);
            graph.Node.RemoveAt(i);
            lifted++;
        }

        if (lifted > 0)
        {
            yield return $"{lifted} Constant node(s) became initializers";
        }

        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        int dropped = 0;
        for (int i = graph.Input.Count - 1; i >= 0; i--)
        {
            if (initializers.Contains(graph.Input[i].Name))
            {
                graph.Input.RemoveAt(i);
                dropped++;
            }
        }

        if (dropped > 0)
        {
            yield return $"{dropped} initializer(s) removed from the graph inputs";
        }
    }

    /// <summary>The node's value as a tensor, or null for sparse, string or otherwise unsupported constants.</summary>
    private static TensorProto? ValueOf(NodeProto node)
    {
        if (node.Attribute.Count != 1)
        {
            return null;
        }

        var a = node.Attribute[0];
        return a.Name switch
        {
            "value" when a.T is { } t && t.DataType != (int)TensorProto.Types.DataType.String => t.Clone(),
            "value_float" => OnnxTensor.FromFloats("", [a.F]),
            "value_floats" => OnnxTensor.FromFloats("", a.Floats.ToArray(), a.Floats.Count),
            "value_int" => OnnxTensor.FromInt64s("", [a.I]),
            "value_ints" => OnnxTensor.FromInt64s("", a.Ints.ToArray(), a.Ints.Count),
            _ => null,
        };
    }
}
