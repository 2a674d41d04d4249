using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Quantization.Qdq;

/// <summary>
/// Collects what the per-operator handlers ask for while walking a BN-folded graph, then resolves it into a
/// <see cref="QuantizationPlan"/>. A tensor asked for at several widths gets the widest.
/// </summary>
internal sealed class QdqPlanBuilder
{
    private readonly Dictionary<string, (int Bits, string Role)> _activations = new(StringComparer.Ordinal);
    private readonly List<WeightSite> _weights = [];
    private readonly List<BiasSite> _biases = [];
    private readonly HashSet<string> _constants;
    private readonly NodeProto? _first;
    private readonly NodeProto? _last;

    public QdqPlanBuilder(GraphIndex index, QuantizationOptions options)
    {
        Index = index;
        Options = options;
        _constants = index.Graph.Node.Where(n => n.OpType == "Constant").SelectMany(n => n.Output).ToHashSet(StringComparer.Ordinal);
        var weighted = index.Graph.Node.Where(n => QdqHandlerRegistry.For(n)?.HasWeights(n, this) == true).ToList();
        _first = weighted.FirstOrDefault();
        _last = weighted.LastOrDefault();
    }

    public GraphIndex Index { get; }

    public QuantizationOptions Options { get; }

    public bool IsConstant(string tensor) => _constants.Contains(tensor);

    /// <summary>(weight bits, input-activation bits) for a weight layer under the first/last-layer policy.</summary>
    public (int WeightBits, int InputBits) LayerBits(NodeProto node) =>
        Options.EffectiveEightBitFirstLastLayer && (ReferenceEquals(node, _first) || ReferenceEquals(node, _last))
            ? (Math.Max(8, Options.WeightBits), Math.Max(8, Options.ActivationBits))
            : (Options.WeightBits, Options.ActivationBits);

    /// <summary>Asks for Q/DQ on a node's input; false when that input cannot be quantized (a constant).</summary>
    public bool ActivationInput(NodeProto node, int input, int bits)
    {
        if (input >= node.Input.Count)
        {
            return false;
        }

        string tensor = node.Input[input];
        if (tensor.Length == 0 || Index.IsInitializer(tensor) || IsConstant(tensor)
            || (Index.Producer(tensor) is null && !Index.GraphInputs.Contains(tensor)))
        {
            return false;
        }

        bool modelInput = Index.GraphInputs.Contains(tensor) && Index.Producer(tensor) is null;
        Request(tensor, modelInput && Options.EightBitInput ? Math.Max(8, bits) : bits, $"input of {node.OpType} '{node.Name}'");
        return true;
    }

    /// <summary>
    /// Asks for Q/DQ on the node's output. When the output's only consumer is a Relu or Clip, the request moves to
    /// that activation's output (ONNX Runtime then folds the activation into the integer kernel). Graph outputs stay float.
    /// </summary>
    public void Output(NodeProto node, int bits)
    {
        string tensor = node.Output[0];
        string role = $"output of {node.OpType} '{node.Name}'";
        while (!Index.GraphOutputs.Contains(tensor) && Index.Consumers(tensor) is [var only]
               && only.Node.OpType is "Relu" or "Clip" && only.Input == 0 && GraphIndex.IsDefaultDomain(only.Node))
        {
            role += $" after {only.Node.OpType}";
            tensor = only.Node.Output[0];
        }

        if (Index.GraphOutputs.Contains(tensor) || Index.Consumers(tensor).Count == 0)
        {
            return;
        }

        Request(tensor, bits, role);
    }

    public void Weight(NodeProto node, int input, int axis, int bits)
    {
        string position = ReferenceEquals(node, _first) ? "first" : ReferenceEquals(node, _last) ? "last" : "";
        _weights.Add(new WeightSite(node.Name, node.OpType, input, node.Input[input], axis, bits,
            node.Input.Count > 0 && _activations.ContainsKey(node.Input[0]) ? node.Input[0] : null, position));
    }

    public void Bias(NodeProto node, int input, int weightInput) =>
        _biases.Add(new BiasSite(node.Name, input, node.Input[input], node.Input[0], weightInput));

    public QuantizationPlan Build()
    {
        // Activations in graph order: graph inputs first, then each node's outputs.
        var order = Index.GraphInputs.Concat(Index.Graph.Node.SelectMany(n => n.Output)).ToList();
        var activations = order.Where(_activations.ContainsKey).Distinct(StringComparer.Ordinal)
            .Select(t => new ActivationSite(t, _activations[t].Bits, _activations[t].Role)).ToList();
        return new QuantizationPlan(activations, _weights, _biases);
    }

    public static long IntAttribute(NodeProto node, string name, long fallback) => GraphIndex.IntAttribute(node, name, fallback);

    public static float FloatAttribute(NodeProto node, string name, float fallback) => GraphIndex.FloatAttribute(node, name, fallback);

    private void Request(string tensor, int bits, string role)
    {
        _activations[tensor] = _activations.TryGetValue(tensor, out var existing)
            ? (Math.Max(existing.Bits, bits), existing.Role)
            : (bits, role);
    }
}
