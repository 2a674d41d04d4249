using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Onnx;

/// <summary>
/// The structural checks every loaded model passes before anything heavy runs (so inspect, generate, quantize and
/// eval refuse the same files, with the same code): the graph has outputs; every node input is a graph input, an
/// initializer or another node's output, and the nodes form no cycle; every tensor has non-negative dimensions whose
/// product fits 64 bits and holds exactly the data its dimensions need; declared input and output dimensions are
/// non-negative; and the model stays within its <see cref="ModelLimits"/> (nodes, tensor bytes, declared input size).
/// Each refusal names the tensor, node or limit.
/// </summary>
public static class GraphValidator
{
    /// <summary>Throws the first problem found.</summary>
    /// <param name="model">The model.</param>
    /// <param name="limits">The limits; null takes <see cref="ModelLimits.Default"/>.</param>
    /// <exception cref="DsgException"><see cref="ErrorCodes.MalformedModel"/>, <see cref="ErrorCodes.TensorTooLarge"/>,
    /// <see cref="ErrorCodes.InputTooLarge"/>, <see cref="ErrorCodes.TooManyNodes"/>, <see cref="ErrorCodes.ModelTooLarge"/>.</exception>
    public static void Validate(OnnxModel model, ModelLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        limits ??= ModelLimits.Default;
        var graph = model.Graph;
        limits.CheckNodes(CountNodes(graph), model.DisplayName);
        if (graph.Output.Count == 0)
        {
            throw Malformed(model, "its graph declares no outputs, so there is nothing to compute",
                "Export the model with its outputs (torch.onnx.export(..., output_names=[\"output\"])).");
        }

        long bytes = 0;
        foreach (var tensor in OnnxModel.EnumerateTensors(graph))
        {
            CheckTensor(model, tensor);
            long size = OnnxTensor.ByteCount(tensor) ?? 0;
            bytes = bytes > long.MaxValue - size ? long.MaxValue : bytes + size;
        }

        limits.CheckModelBytes(bytes, model.DisplayName);
        foreach (var value in graph.Input.Concat(graph.Output).Concat(graph.ValueInfo))
        {
            CheckDeclaredShape(model, value);
        }

        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var input in graph.Input.Where(i => !initializers.Contains(i.Name)))
        {
            if (input.Type?.TensorType?.Shape?.Dim is { } dims)
            {
                limits.CheckInputValues(dims.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : 0), input.Name, model.DisplayName);
            }
        }

        CheckDataflow(model, graph);
    }

    private static void CheckTensor(OnnxModel model, TensorProto tensor)
    {
        long count = OnnxTensor.ElementCount(tensor);
        long? bytes = OnnxTensor.ByteCount(tensor);
        if (OnnxTensor.IsExternal(tensor))
        {
            // LocateExternal has checked the range against the file; the range must fit the dimensions too.
            if (bytes is { } need && tensor.ExternalData.LastOrDefault(e => e.Key == "length")?.Value is { } text
                && long.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var length) && length != need)
            {
                throw Mismatch(model, tensor, $"its external data is {length} bytes, but {count} elements of {OnnxTensor.DataType(tensor)} need {need}");
            }

            return;
        }

        if (tensor.HasRawData)
        {
            if (bytes is { } need && tensor.RawData.Length != need)
            {
                throw Mismatch(model, tensor, $"its raw_data is {tensor.RawData.Length} bytes, but {count} elements of {OnnxTensor.DataType(tensor)} need {need}");
            }

            return;
        }

        var type = OnnxTensor.DataType(tensor);
        int? held = type switch
        {
            TensorProto.Types.DataType.Float => tensor.FloatData.Count,
            TensorProto.Types.DataType.Double => tensor.DoubleData.Count,
            TensorProto.Types.DataType.Int64 => tensor.Int64Data.Count,
            TensorProto.Types.DataType.Uint32 or TensorProto.Types.DataType.Uint64 => tensor.Uint64Data.Count,
            TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Int16 or TensorProto.Types.DataType.Int8
                or TensorProto.Types.DataType.Uint16 or TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Bool
                or TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16 => tensor.Int32Data.Count,
            TensorProto.Types.DataType.String => tensor.StringData.Count,
            _ => null,
        };
        if (held is { } n && n != count)
        {
            throw Mismatch(model, tensor, $"it holds {n} values, but its dimensions ({string.Join(" x ", tensor.Dims)}) need {count}");
        }
    }

    private static void CheckDeclaredShape(OnnxModel model, ValueInfoProto value)
    {
        var dims = value.Type?.TensorType?.Shape?.Dim;
        if (dims is null)
        {
            return;
        }

        long product = 1;
        foreach (var d in dims)
        {
            if (d.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue)
            {
                continue;
            }

            if (d.DimValue < 0)
            {
                throw Malformed(model, $"'{value.Name}' is declared with a negative dimension ({d.DimValue})",
                    "The model file is corrupt or was written by a faulty exporter; export it again.");
            }

            if (d.DimValue != 0 && product > long.MaxValue / d.DimValue)
            {
                throw new DsgException(ErrorCodes.TensorTooLarge,
                    $"'{value.Name}' in '{model.DisplayName}' is declared with dimensions that multiply past 2^63.",
                    "The model file is corrupt; export it again with its real shapes.") { FilePath = model.DisplayName };
            }

            product *= d.DimValue;
        }
    }

    /// <summary>Every node input is defined, and the nodes can be ordered so each runs after the nodes it reads (no cycle).</summary>
    private static void CheckDataflow(OnnxModel model, GraphProto graph)
    {
        var available = new HashSet<string>(graph.Input.Select(i => i.Name), StringComparer.Ordinal);
        available.UnionWith(graph.Initializer.Select(t => t.Name));
        var producers = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < graph.Node.Count; i++)
        {
            foreach (var output in graph.Node[i].Output.Where(o => o.Length > 0))
            {
                producers.TryAdd(output, i);
            }
        }

        // Kahn's algorithm over node → node edges; a node waits for the producers of its inputs.
        var waiting = new int[graph.Node.Count];
        var readers = new Dictionary<int, List<int>>();
        for (int i = 0; i < graph.Node.Count; i++)
        {
            var node = graph.Node[i];
            foreach (var input in node.Input.Where(n => n.Length > 0).Distinct(StringComparer.Ordinal))
            {
                if (available.Contains(input))
                {
                    continue;
                }

                if (!producers.TryGetValue(input, out var producer))
                {
                    throw Malformed(model, $"node {NodeName(node)} reads '{input}', which no graph input, initializer or node defines",
                        "The model file is corrupt or was cut incompletely; export it again.");
                }

                waiting[i]++;
                (readers.TryGetValue(producer, out var list) ? list : readers[producer] = []).Add(i);
            }
        }

        var ready = new Queue<int>(Enumerable.Range(0, graph.Node.Count).Where(i => waiting[i] == 0));
        int ordered = 0;
        while (ready.Count > 0)
        {
            int i = ready.Dequeue();
            ordered++;
            foreach (var reader in readers.GetValueOrDefault(i) ?? [])
            {
                if (--waiting[reader] == 0)
                {
                    ready.Enqueue(reader);
                }
            }
        }

        if (ordered < graph.Node.Count)
        {
            var stuck = graph.Node[Array.FindIndex(waiting, w => w > 0)];
            throw Malformed(model, $"its nodes form a cycle (node {NodeName(stuck)} depends on its own output)",
                "An ONNX graph must be acyclic; export the model again.");
        }

        foreach (var output in graph.Output)
        {
            if (!available.Contains(output.Name) && !producers.ContainsKey(output.Name))
            {
                throw Malformed(model, $"graph output '{output.Name}' is not computed by any node",
                    "The model file is corrupt or was cut incompletely; export it again.");
            }
        }
    }

    /// <summary>The nodes of the graph and of every sub-graph in its attributes.</summary>
    private static long CountNodes(GraphProto graph)
    {
        long count = graph.Node.Count;
        foreach (var attribute in graph.Node.SelectMany(n => n.Attribute))
        {
            foreach (var sub in attribute.Graphs.Append(attribute.G).OfType<GraphProto>())
            {
                count += CountNodes(sub);
            }
        }

        return count;
    }

    private static string NodeName(NodeProto node) =>
        string.IsNullOrEmpty(node.Name) ? $"<unnamed {node.OpType} -> {string.Join(",", node.Output)}>" : $"'{node.Name}' ({node.OpType})";

    private static DsgException Mismatch(OnnxModel model, TensorProto tensor, string detail) =>
        Malformed(model, $"tensor '{tensor.Name}' does not match its shape: {detail}",
            "The model file is corrupt or truncated; copy or export it again.");

    private static DsgException Malformed(OnnxModel model, string detail, string hint) =>
        new(ErrorCodes.MalformedModel, $"'{model.DisplayName}' is malformed: {detail}.", hint) { FilePath = model.DisplayName };
}
