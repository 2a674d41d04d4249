using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Quantization.Refinement;

/// <summary>
/// A <see cref="GraphBlock"/> as a model of its own, for <see cref="Graph.TorchGraph"/>: the block's nodes and the constant
/// sub-graphs they read, its input as graph input 0 (N × the sample shape), each learned weight as one more graph input
/// (so the learned value flows in on every pass, whatever the operator does with constant weights), every other weight
/// the plan quantizes replaced by its dequantized value, and the block's outputs as graph outputs.
/// </summary>
internal static class BlockModel
{
    /// <param name="folded">The BN-folded fp32 model.</param>
    /// <param name="block">The block.</param>
    /// <param name="sampleShape">One sample's shape of the block input.</param>
    /// <param name="learned">Weight initializers that become graph inputs, with their shapes.</param>
    /// <param name="fixedWeights">Weight initializers replaced by these values (the quantized weights not learned here).</param>
    public static OnnxModel Build(OnnxModel folded, GraphBlock block, long[] sampleShape, IReadOnlyDictionary<string, long[]> learned,
        IReadOnlyDictionary<string, float[]> fixedWeights)
    {
        var graph = folded.Graph;
        BlockPartition.ConstantTensors(graph, out var constantNodes);
        var producers = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (var node in constantNodes)
        {
            foreach (var output in node.Output)
            {
                producers[output] = node;
            }
        }

        // The constant nodes the block reads, transitively.
        var needed = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<string>(block.Nodes.SelectMany(n => n.Input));
        while (pending.TryPop(out var name))
        {
            if (producers.TryGetValue(name, out var producer) && needed.Add(producer))
            {
                foreach (var input in producer.Input)
                {
                    pending.Push(input);
                }
            }
        }

        var members = new HashSet<NodeProto>(block.Nodes, ReferenceEqualityComparer.Instance);
        var sub = new GraphProto { Name = graph.Name + "_block" };
        sub.Node.AddRange(graph.Node.Where(n => needed.Contains(n) || members.Contains(n)).Select(n => n.Clone()));
        var read = new HashSet<string>(sub.Node.SelectMany(n => n.Input), StringComparer.Ordinal);
        foreach (var tensor in graph.Initializer.Where(t => read.Contains(t.Name) && !learned.ContainsKey(t.Name)))
        {
            sub.Initializer.Add(fixedWeights.TryGetValue(tensor.Name, out var values)
                ? OnnxTensor.FromFloats(tensor.Name, values, [.. tensor.Dims])
                : tensor.Clone());
        }

        sub.Input.Add(FloatInput(block.Input, [null, .. sampleShape.Select(d => (long?)d)]));
        foreach (var (name, dims) in learned)
        {
            sub.Input.Add(FloatInput(name, dims.Select(d => (long?)d).ToArray()));
        }

        foreach (var output in block.Outputs)
        {
            sub.Output.Add(new ValueInfoProto { Name = output, Type = FloatType() });
        }

        var proto = new ModelProto { IrVersion = folded.Proto.IrVersion, Graph = sub, ProducerName = "dsg-block" };
        proto.OpsetImport.AddRange(folded.Proto.OpsetImport.Select(o => o.Clone()));
        return OnnxModel.FromProto(proto, folded.Directory, $"{folded.DisplayName} (block at {block.Input})");
    }

    private static ValueInfoProto FloatInput(string name, long?[] dims)
    {
        var type = FloatType();
        type.TensorType.Shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            type.TensorType.Shape.Dim.Add(d is long known ? new TensorShapeProto.Types.Dimension { DimValue = known } : new TensorShapeProto.Types.Dimension { DimParam = "N" });
        }

        return new ValueInfoProto { Name = name, Type = type };
    }

    private static TypeProto FloatType() =>
        new() { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } };
}
