using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Quantization.Refinement;

/// <summary>
/// One block of a graph for block reconstruction (<see cref="BrecqRefiner"/>): consecutive nodes, in graph order, that
/// read a single tensor from the nodes before them (<see cref="Input"/>; initializers and constant sub-graphs aside) and
/// hand the nodes after them only <see cref="Outputs"/>.
/// </summary>
/// <param name="Input">The one tensor the block reads from earlier nodes (or the graph input).</param>
/// <param name="Outputs">What later nodes (or the graph's outputs) read from the block, in a fixed order.</param>
/// <param name="Nodes">The block's nodes in graph order (constant sub-graphs not included).</param>
/// <param name="WeightNodes">The names of its nodes whose weight is learned (the partition's <c>weighted</c> set).</param>
internal sealed record GraphBlock(string Input, IReadOnlyList<string> Outputs, IReadOnlyList<NodeProto> Nodes, IReadOnlyList<string> WeightNodes)
{
    /// <summary>
    /// The activations the block quantizes and a refinement learns the step size of: those its nodes produce, except the
    /// model's graph outputs (which the QDQ model leaves in float).
    /// </summary>
    public IReadOnlyList<ActivationCalibration> QuantizedInside(IReadOnlyList<ActivationCalibration> activations, OnnxModel model)
    {
        var produced = Nodes.SelectMany(n => n.Output).ToHashSet(StringComparer.Ordinal);
        var outputs = model.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        return activations.Where(a => produced.Contains(a.Site.Tensor) && !outputs.Contains(a.Site.Tensor)).ToList();
    }
}

/// <summary>
/// Splits a single-input graph into blocks for BRECQ: a cut is a point in graph order after which one tensor alone
/// carries everything later nodes read, so a residual block (everything between two merge points, skip path included)
/// falls between two cuts, and a plain chain is cut after every node. The pieces between cuts that hold no weighted node
/// join the piece before them (a Relu or pooling after a convolution belongs to its block); pieces before the first
/// weighted node join the first block.
/// </summary>
internal static class BlockPartition
{
    /// <summary>The blocks of <paramref name="model"/> that hold at least one of <paramref name="weighted"/> (node names).</summary>
    /// <exception cref="DsgException">DSG0714 when the graph does not have exactly one non-constant input.</exception>
    public static IReadOnlyList<GraphBlock> Find(OnnxModel model, IReadOnlySet<string> weighted)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(weighted);
        var graph = model.Graph;
        var constants = ConstantTensors(graph, out var constantNodes);
        var inputs = new List<string> { SingleInput(model, constants) };

        var nodes = graph.Node.Where(n => !constantNodes.Contains(n)).ToList();
        var outputs = new HashSet<string>(graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        var lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < nodes.Count; i++)
        {
            foreach (var name in nodes[i].Input.Where(n => n.Length > 0 && !constants.Contains(n)))
            {
                lastUse[name] = i;
            }
        }

        foreach (var name in outputs)
        {
            lastUse[name] = int.MaxValue;
        }

        // Pieces between cuts: (first node, last node, input, outputs).
        var pieces = new List<(int First, int Last, string Input, List<string> Outputs)>();
        var live = new List<string> { inputs[0] };
        int start = 0;
        string pieceInput = inputs[0];
        for (int i = 0; i < nodes.Count; i++)
        {
            live.RemoveAll(t => lastUse.GetValueOrDefault(t, -1) <= i);
            live.AddRange(nodes[i].Output.Where(o => o.Length > 0 && lastUse.GetValueOrDefault(o, -1) > i));
            if (live.Count == 1 || i == nodes.Count - 1)
            {
                var ordered = live.OrderBy(t => outputs.Contains(t) ? graph.Output.ToList().FindIndex(o => o.Name == t) : -1).ThenBy(t => t, StringComparer.Ordinal).ToList();
                pieces.Add((start, i, pieceInput, ordered));
                start = i + 1;
                pieceInput = live.Count == 1 ? live[0] : "";
            }
        }

        // Join weightless pieces to the block before them (or, before the first weighted node, to the one after).
        var blocks = new List<(int First, int Last, string Input, List<string> Outputs)>();
        (int First, int Last, string Input, List<string> Outputs)? pending = null;
        foreach (var piece in pieces)
        {
            bool hasWeight = Enumerable.Range(piece.First, piece.Last - piece.First + 1).Any(i => weighted.Contains(nodes[i].Name));
            if (hasWeight)
            {
                var merged = pending is { } p ? (p.First, piece.Last, p.Input, piece.Outputs) : piece;
                pending = null;
                blocks.Add(merged);
            }
            else if (blocks.Count > 0)
            {
                var last = blocks[^1];
                blocks[^1] = (last.First, piece.Last, last.Input, piece.Outputs);
            }
            else
            {
                pending = pending is { } p ? (p.First, piece.Last, p.Input, piece.Outputs) : piece;
            }
        }

        return blocks.Select(b =>
        {
            var members = nodes.GetRange(b.First, b.Last - b.First + 1);
            return new GraphBlock(b.Input, b.Outputs, members, members.Where(n => weighted.Contains(n.Name)).Select(n => n.Name).ToList());
        }).ToList();
    }

    /// <summary>The whole graph as one block (for fine-tuning the whole model): its input, its outputs, every non-constant node.</summary>
    /// <exception cref="DsgException">DSG0714 when the graph does not have exactly one non-constant input.</exception>
    public static GraphBlock Whole(OnnxModel model, IReadOnlySet<string> weighted)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(weighted);
        var graph = model.Graph;
        var constants = ConstantTensors(graph, out var constantNodes);
        var inputs = SingleInput(model, constants);
        var nodes = graph.Node.Where(n => !constantNodes.Contains(n)).ToList();
        return new GraphBlock(inputs, graph.Output.Select(o => o.Name).ToList(), nodes, nodes.Where(n => weighted.Contains(n.Name)).Select(n => n.Name).ToList());
    }

    private static string SingleInput(OnnxModel model, HashSet<string> constants)
    {
        var inputs = model.Graph.Input.Select(i => i.Name).Where(n => !constants.Contains(n)).ToList();
        return inputs.Count == 1
            ? inputs[0]
            : throw new DsgException(ErrorCodes.RefinementUnsupported,
                $"Block reconstruction and fine-tuning (--refine brecq, qat) need a graph with one input; '{model.DisplayName}' has {inputs.Count} ({string.Join(", ", inputs)}).",
                "Use --refine adaround, which learns layer by layer and takes any number of inputs.") { FilePath = model.DisplayName };
    }

    /// <summary>Initializers, and every output of a node all of whose inputs are constant (Constant nodes included).</summary>
    internal static HashSet<string> ConstantTensors(GraphProto graph, out HashSet<NodeProto> constantNodes)
    {
        var constants = new HashSet<string>(graph.Initializer.Select(t => t.Name), StringComparer.Ordinal);
        constantNodes = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        foreach (var node in graph.Node)
        {
            if (node.Input.All(i => i.Length == 0 || constants.Contains(i)))
            {
                constantNodes.Add(node);
                constants.UnionWith(node.Output.Where(o => o.Length > 0));
            }
        }

        return constants;
    }
}
