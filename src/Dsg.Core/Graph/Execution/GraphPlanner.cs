using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Execution;

/// <summary>
/// Turns an ONNX graph into a <see cref="GraphPlan"/>: checks every op is supported, orders the nodes, drops
/// the ones no output depends on, loads initializers, builds one kernel per node and folds every node whose
/// inputs are all known at load (initializers, Constant nodes and whatever is computed from them).
/// </summary>
internal sealed class GraphPlanner
{
    private readonly OnnxModel _model;
    private readonly Device _device;
    private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];
    private readonly Dictionary<int, Tensor> _constants = [];
    private readonly List<Tensor> _owned = [];
    private readonly Dictionary<string, TensorProto> _initializers;

    public GraphPlanner(OnnxModel model, Device device)
    {
        _model = model;
        _device = device;
        _initializers = new Dictionary<string, TensorProto>(model.Initializers, StringComparer.Ordinal);
    }

    /// <summary>Tensors the graph owns besides the constants in the plan (built by kernels at load).</summary>
    public IReadOnlyList<Tensor> Owned => _owned;

    /// <summary>Releases every tensor loaded or built so far (when building fails).</summary>
    public void DisposeLoaded()
    {
        foreach (var tensor in _constants.Values.Concat(_owned).Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>())
        {
            tensor.Dispose();
        }

        _constants.Clear();
        _owned.Clear();
    }

    /// <summary>Names every node whose op the executor lacks; null when all are supported.</summary>
    public static DsgException? FindUnsupported(OnnxModel model)
    {
        var unsupported = model.Graph.Node.Where(n => OperatorRegistry.Find(n.OpType, n.Domain) is null).ToList();
        if (unsupported.Count == 0)
        {
            return null;
        }

        var listed = string.Join("; ", unsupported
            .GroupBy(n => string.IsNullOrEmpty(n.Domain) ? n.OpType : $"{n.Domain}.{n.OpType}")
            .Select(g => $"{g.Key} ({string.Join(", ", g.Select(n => string.IsNullOrEmpty(n.Name) ? $"<unnamed -> {string.Join(",", n.Output)}>" : n.Name))})"));
        return new DsgException(ErrorCodes.UnsupportedOps,
            $"'{model.DisplayName}' uses {unsupported.Select(n => n.OpType).Distinct().Count()} operator type(s) the executor does not support: {listed}.",
            "Supported operators are listed in docs/operators.md. Export without these ops, or cut the graph before them.")
        { FilePath = model.DisplayName };
    }

    /// <summary>Builds the plan. Runs inside the caller's no_grad and DisposeScope; every kept tensor is detached from it.</summary>
    public GraphPlan Build(out List<BatchNormLayer> batchNormLayers)
    {
        var graph = _model.Graph;
        var inputs = graph.Input.Where(i => !_initializers.ContainsKey(i.Name)).ToList();
        var outputNames = graph.Output.Select(o => o.Name).ToArray();
        var nodes = TopologicalOrder(graph, inputs.Select(i => i.Name));
        var live = LiveNodes(nodes, outputNames);

        var consumed = new HashSet<string>(outputNames, StringComparer.Ordinal);
        foreach (var node in live)
        {
            consumed.UnionWith(node.Input.Where(n => n.Length > 0));
        }

        var inputSlots = inputs.Select(i => SlotOf(i.Name)).ToArray();
        var steps = new List<ExecutionStep>();
        batchNormLayers = [];
        var tapSlots = new List<int>();
        long opset = _model.Opset;
        foreach (var node in live)
        {
            var context = new NodeContext(node, opset, _device, ConstantOf, consumed.Contains, t => Own(t));
            var kernel = OperatorRegistry.Find(node.OpType, node.Domain)!.Build(context);
            var inputSlotsOfNode = node.Input.Select(n => n.Length == 0 ? -1 : SlotOf(n)).ToArray();
            foreach (var slot in inputSlotsOfNode.Where(s => s >= 0))
            {
                ConstantAt(slot);
            }

            var outputSlotsOfNode = node.Output.Select(n => n.Length == 0 || !consumed.Contains(n) ? -1 : SlotOf(n)).ToArray();
            if (inputSlotsOfNode.All(s => s < 0 || ConstantAt(s) is not null))
            {
                Fold(node, context, kernel, inputSlotsOfNode, outputSlotsOfNode);
                continue;
            }

            var step = new ExecutionStep(kernel, node.OpType, context.DisplayName, inputSlotsOfNode, outputSlotsOfNode);
            steps.Add(step);
            if (node.OpType == "BatchNormalization" && TryCreateLayer(node, context, batchNormLayers.Count) is { } layer)
            {
                step.TapIndex = layer.Index;
                batchNormLayers.Add(layer);
                tapSlots.Add(inputSlotsOfNode[0]);
            }
        }

        foreach (var name in outputNames)
        {
            ConstantOf(name);
        }

        var outputSlots = outputNames.Select(SlotOf).ToArray();
        var lastUse = Enumerable.Repeat(-1, _slots.Count).ToArray();
        for (int i = 0; i < steps.Count; i++)
        {
            foreach (var slot in steps[i].InputSlots.Where(s => s >= 0))
            {
                lastUse[slot] = i;
            }
        }

        var constants = new Tensor?[_slots.Count];
        var external = new bool[_slots.Count];
        foreach (var (slot, tensor) in _constants)
        {
            constants[slot] = tensor;
            external[slot] = true;
        }

        foreach (var slot in inputSlots)
        {
            external[slot] = true;
        }

        int featureStep = steps.FindLastIndex(s => s.OpType is "Gemm" or "MatMul");
        return new GraphPlan
        {
            SlotCount = _slots.Count,
            SlotNames = _names.ToArray(),
            Constants = constants,
            External = external,
            Steps = steps.ToArray(),
            InputNames = inputs.Select(i => i.Name).ToArray(),
            InputSlots = inputSlots,
            InputTypes = inputs.Select(i => i.Type?.TensorType is { } t ? TensorProtoConverter.ToScalarType((TensorProto.Types.DataType)t.ElemType) : null).ToArray(),
            OutputNames = outputNames,
            OutputSlots = outputSlots,
            LastUse = lastUse,
            TapSlots = tapSlots.ToArray(),
            FeatureStep = featureStep,
        };
    }

    /// <summary>The constant value of a name (an initializer is read on first use), or null.</summary>
    public Tensor? ConstantOf(string name) => _slots.TryGetValue(name, out var slot) ? ConstantAt(slot) : LoadInitializer(name);

    private Tensor? ConstantAt(int slot)
    {
        if (_constants.TryGetValue(slot, out var tensor))
        {
            return tensor;
        }

        return LoadInitializer(_names[slot]);
    }

    private Tensor? LoadInitializer(string name)
    {
        if (!_initializers.TryGetValue(name, out var proto))
        {
            return null;
        }

        _initializers.Remove(name);
        var tensor = TensorProtoConverter.ToTensor(proto, _model, _device).DetachFromDisposeScope();
        _constants[SlotOf(name)] = tensor;
        return tensor;
    }

    private int SlotOf(string name)
    {
        if (!_slots.TryGetValue(name, out var slot))
        {
            slot = _slots.Count;
            _slots[name] = slot;
            _names.Add(name);
        }

        return slot;
    }

    /// <summary>A BatchNorm layer for a node whose four statistics are constant; null otherwise (it runs without a tap).</summary>
    private BatchNormLayer? TryCreateLayer(NodeProto node, NodeContext context, int index)
    {
        var statistics = new Tensor[4];
        for (int i = 0; i < 4; i++)
        {
            if (context.Constant(i + 1) is not { } constant)
            {
                return null;
            }

            statistics[i] = constant.ndim == 1 && constant.dtype == ScalarType.Float32
                ? constant
                : Own(constant.flatten().to_type(ScalarType.Float32));
        }

        string name = string.IsNullOrEmpty(node.Name) ? context.DisplayName : node.Name;
        return new BatchNormLayer(index, name, node.Input[0], statistics[0], statistics[1], statistics[2], statistics[3],
            context.Float("epsilon", 1e-5f));
    }

    private Tensor Own(Tensor tensor)
    {
        var kept = tensor.DetachFromDisposeScope();
        _owned.Add(kept);
        return kept;
    }

    private void Fold(NodeProto node, NodeContext context, OperatorKernel kernel, int[] inputSlots, int[] outputSlots)
    {
        var inputs = inputSlots.Select(s => s < 0 ? null : ConstantAt(s)).ToArray();
        var outputs = new Tensor?[outputSlots.Length];
        try
        {
            kernel.Run(inputs, outputs);
        }
        catch (Exception e) when (e is not DsgException)
        {
            throw new DsgException(ErrorCodes.NodeExecutionFailed,
                $"{context.DisplayName} failed while its constant inputs were folded at load: {e.Message}",
                "The model's constant sub-graph does not compute; check the model with ONNX Runtime (dotnet dsg inspect --verify).", e)
            { FilePath = _model.DisplayName };
        }

        for (int i = 0; i < outputSlots.Length; i++)
        {
            if (outputSlots[i] >= 0)
            {
                var value = outputs[i] ?? throw new DsgException(ErrorCodes.NodeExecutionFailed,
                    $"{context.DisplayName} produced no value for its output '{node.Output[i]}'.", "Check the model with ONNX Runtime.");
                if (inputs.Any(t => ReferenceEquals(t, value)))
                {
                    value = value.alias();
                }

                _constants[outputSlots[i]] = value.DetachFromDisposeScope();
            }
        }
    }

    private List<NodeProto> TopologicalOrder(GraphProto graph, IEnumerable<string> inputNames)
    {
        var available = new HashSet<string>(inputNames, StringComparer.Ordinal);
        available.UnionWith(_initializers.Keys);
        var producers = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < graph.Node.Count; i++)
        {
            foreach (var output in graph.Node[i].Output.Where(o => o.Length > 0))
            {
                producers[output] = i;
            }
        }

        var pending = new int[graph.Node.Count];
        var dependents = new List<int>[graph.Node.Count];
        for (int i = 0; i < graph.Node.Count; i++)
        {
            dependents[i] = [];
        }

        for (int i = 0; i < graph.Node.Count; i++)
        {
            foreach (var input in graph.Node[i].Input.Where(n => n.Length > 0).Distinct())
            {
                if (available.Contains(input))
                {
                    continue;
                }

                if (!producers.TryGetValue(input, out var producer))
                {
                    throw new DsgException(ErrorCodes.MalformedModel,
                        $"{NodeContext.DescribeNode(graph.Node[i])} in '{_model.DisplayName}' reads '{input}', which no node, input or initializer provides.",
                        "The graph is malformed; export the model again (onnx.checker.check_model finds this too).")
                    { FilePath = _model.DisplayName };
                }

                pending[i]++;
                dependents[producer].Add(i);
            }
        }

        var ready = new PriorityQueue<int, int>();
        for (int i = 0; i < pending.Length; i++)
        {
            if (pending[i] == 0)
            {
                ready.Enqueue(i, i);
            }
        }

        var order = new List<NodeProto>(graph.Node.Count);
        while (ready.TryDequeue(out var index, out _))
        {
            order.Add(graph.Node[index]);
            foreach (var dependent in dependents[index])
            {
                if (--pending[dependent] == 0)
                {
                    ready.Enqueue(dependent, dependent);
                }
            }
        }

        if (order.Count != graph.Node.Count)
        {
            throw new DsgException(ErrorCodes.MalformedModel,
                $"The graph of '{_model.DisplayName}' has a cycle.",
                "Export the model again; ONNX graphs must be acyclic.") { FilePath = _model.DisplayName };
        }

        var known = new HashSet<string>(available, StringComparer.Ordinal);
        foreach (var node in order)
        {
            known.UnionWith(node.Output);
        }

        foreach (var output in graph.Output.Where(o => !known.Contains(o.Name)))
        {
            throw new DsgException(ErrorCodes.MalformedModel,
                $"Graph output '{output.Name}' of '{_model.DisplayName}' is not produced by any node, input or initializer.",
                "Export the model again.") { FilePath = _model.DisplayName };
        }

        return order;
    }

    private static List<NodeProto> LiveNodes(List<NodeProto> ordered, IEnumerable<string> outputs)
    {
        var needed = new HashSet<string>(outputs, StringComparer.Ordinal);
        var live = new List<NodeProto>();
        for (int i = ordered.Count - 1; i >= 0; i--)
        {
            var node = ordered[i];
            if (node.Output.Any(needed.Contains))
            {
                live.Add(node);
                needed.UnionWith(node.Input.Where(n => n.Length > 0));
            }
        }

        live.Reverse();
        return live;
    }
}
