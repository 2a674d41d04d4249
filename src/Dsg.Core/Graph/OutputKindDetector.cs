using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Graph;

/// <summary>
/// Decides what a model's first output holds (<see cref="OutputKind"/>). The ONNX graph decides first: the output's
/// declared shape, and the node that computes it, looking past shape-only nodes (Softmax → probabilities, LogSoftmax →
/// log-probabilities, Gemm/MatMul/Conv or the bias Add after them → logits, pooling or an activation → a feature
/// vector, and a map when H·W &gt; 1 whatever computes it). A forward pass on the executor (the probe) runs only where
/// the graph leaves it open: an unknown shape, or a vector from any other node (Div, Mul, ...), whose rows may still
/// sum to 1 (a softmax written out).
/// </summary>
public static class OutputKindDetector
{
    /// <summary>The names <c>--output-kind</c> accepts: <c>auto</c> (detect) and the kinds a user can ask for.</summary>
    public static IReadOnlyList<string> RequestableNames { get; } = ["auto", "logits", "probabilities", "embedding", "dense"];

    /// <summary>Nodes that change only the shape (or nothing): the detector looks through them to the node that computes the values.</summary>
    private static readonly HashSet<string> s_shapeOnly = new(StringComparer.Ordinal)
    {
        "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Dropout",
    };

    /// <summary>Classifier layers: a weight product whose output rows are class scores when the output is N×K.</summary>
    private static readonly HashSet<string> s_classifiers = new(StringComparer.Ordinal) { "Gemm", "MatMul", "Conv" };

    /// <summary>
    /// Nodes that make features, never rows that sum to 1 (pooling, activations, normalisation, concatenation): a
    /// vector they compute is an embedding without a probe. Any other node (Div, Mul, Exp, ...) may be a softmax
    /// written out, so a vector it computes is probed.
    /// </summary>
    private static readonly HashSet<string> s_featureMakers = new(StringComparer.Ordinal)
    {
        "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "AveragePool", "MaxPool", "LpPool", "ReduceMean", "ReduceMax", "ReduceL2",
        "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Clip", "HardSigmoid", "HardSwish", "Sigmoid", "Tanh", "Gelu", "Mish",
        "BatchNormalization", "InstanceNormalization", "LayerNormalization", "LpNormalization", "Concat",
    };

    /// <summary>Tolerance for rows that sum to 1, and for how far below 0 a probability may round.</summary>
    private const float ProbabilityTolerance = 1e-3f;

    private enum Producer
    {
        Classifier,
        Softmax,
        LogSoftmax,
        Features,
        Other,
    }

    /// <summary>The tool's name of a kind: <c>logits</c>, <c>probabilities</c>, <c>log-probabilities</c>, <c>embedding</c> or <c>dense</c>.</summary>
    public static string Name(OutputKind kind) => kind switch
    {
        OutputKind.Logits => "logits",
        OutputKind.Probabilities => "probabilities",
        OutputKind.LogProbabilities => "log-probabilities",
        OutputKind.Embedding => "embedding",
        OutputKind.Dense => "dense",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Parses a value of <c>--output-kind</c> (any case): null for <c>auto</c>, else the kind asked for.</summary>
    /// <exception cref="DsgException">DSG0301 for any other text.</exception>
    public static OutputKind? ParseRequested(string text) => text.Trim().ToLowerInvariant() switch
    {
        "auto" => null,
        "logits" => OutputKind.Logits,
        "probabilities" => OutputKind.Probabilities,
        "embedding" => OutputKind.Embedding,
        "dense" => OutputKind.Dense,
        _ => throw new DsgException(ErrorCodes.BadOption,
            $"The output kind '{text}' is not one of {string.Join(", ", RequestableNames)}.",
            $"Pass --output-kind {string.Join("|", RequestableNames)}."),
    };

    /// <summary>
    /// Detects the first output's kind (or checks <paramref name="requested"/> against its shape), probing on
    /// <paramref name="probe"/> only where the graph leaves the kind open. Without a probe, or when it fails, the
    /// graph's best guess stands.
    /// </summary>
    /// <exception cref="DsgException">
    /// DSG0601 when <paramref name="requested"/> is logits or probabilities and the output is not one N×K vector of
    /// class scores per sample.
    /// </exception>
    public static DetectedOutput Detect(OnnxModel model, OutputKind? requested = null, TorchGraph? probe = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Detect(model, requested, probe is null ? null : () => probe, ownsProbe: false);
    }

    /// <summary>
    /// As <see cref="Detect(OnnxModel, OutputKind?, TorchGraph?)"/>, building an executor with
    /// <paramref name="probeGraph"/> only when a probe is needed (and disposing it after).
    /// </summary>
    public static DetectedOutput Detect(OnnxModel model, OutputKind? requested, TorchGraphOptions probeGraph)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(probeGraph);
        return Detect(model, requested, () => TorchGraph.Create(model, probeGraph), ownsProbe: true);
    }

    /// <summary>
    /// The kind judged from output values alone, for a model whose graph is not at hand: a map when the dimensions
    /// after the channel hold more than one value, otherwise (K ≥ 2) probabilities when every row is non-negative and
    /// sums to 1, and logits when not; a single value per sample is an embedding.
    /// </summary>
    public static OutputKind FromValues(Tensor output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var (kind, _) = Decide(Producer.Classifier, BatchFirst(output.shape));
        return kind == OutputKind.Logits && RowsAreProbabilities(output) ? OutputKind.Probabilities : kind;
    }

    private static DetectedOutput Detect(OnnxModel model, OutputKind? requested, Func<TorchGraph>? probe, bool ownsProbe)
    {
        var graph = model.Graph;
        if (graph.Output.Count == 0)
        {
            throw new DsgException(ErrorCodes.MalformedModel, $"'{model.DisplayName}' has no graph outputs.",
                "Export the model with its outputs.") { FilePath = model.DisplayName };
        }

        var output = graph.Output[0];
        var head = HeadNode(graph, output.Name);
        var producer = Classify(graph, head);
        var shape = DeclaredShape(output);
        string? op = head?.OpType;
        string? node = head is null ? null : string.IsNullOrEmpty(head.Name) ? head.Output[0] : head.Name;
        DetectedOutput Result(OutputKind kind, long?[]? dims, OutputKindSource source) =>
            new(kind, output.Name, dims ?? [], op, node, graph.Output.Count, source);

        if (requested is { } asked)
        {
            bool needsShape = asked is OutputKind.Logits or OutputKind.Probabilities && (shape is null || shape.Skip(1).Any(d => d is null));
            if (needsShape && RunProbe(probe, ownsProbe) is { } probed)
            {
                shape = probed.Shape;
            }

            if (asked is OutputKind.Logits or OutputKind.Probabilities && !CanHoldClassScores(shape))
            {
                throw new DsgException(ErrorCodes.OutputNotClassScores,
                    $"--output-kind {Name(asked)} was given, but the first output '{output.Name}' of '{model.DisplayName}' has shape {Result(asked, shape, OutputKindSource.Requested).ShapeText}, not one vector of K >= 2 class scores per sample.",
                    "Use --output-kind auto (or embedding or dense): DSG then turns the class term off and compares the quantized model's output with fp32 by cosine similarity. --without class turns the class term off as well.")
                { FilePath = model.DisplayName };
            }

            return Result(asked, shape, OutputKindSource.Requested);
        }

        var (guess, settled) = Decide(producer, shape);
        if (settled || RunProbe(probe, ownsProbe) is not { } probe1)
        {
            return Result(guess, shape, OutputKindSource.Graph);
        }

        var (kind, _) = Decide(producer, probe1.Shape);
        if (producer == Producer.Other && kind == OutputKind.Embedding && probe1.RowsSumToOne)
        {
            kind = OutputKind.Probabilities;
        }

        return Result(kind, probe1.Shape, OutputKindSource.Probe);
    }

    /// <summary>
    /// The kind a producer and a shape give, and whether that is settled. A map (more than one value per channel)
    /// is dense whatever made it; one vector per sample is what its producer says, except that a vector from a node
    /// that is not known to make class scores or features may still hold rows that sum to 1, and an unknown shape
    /// may be either: those are not settled.
    /// </summary>
    private static (OutputKind Kind, bool Settled) Decide(Producer producer, long?[]? shape)
    {
        if (shape is null)
        {
            return (ByProducer(producer), false);
        }

        if (shape.Length < 2)
        {
            return (OutputKind.Embedding, true);
        }

        var spatial = shape.Skip(2).ToArray();
        if (spatial.Any(d => d is null))
        {
            return (OutputKind.Dense, false);
        }

        if (spatial.Aggregate(1L, (a, d) => a * d!.Value) > 1)
        {
            return (OutputKind.Dense, true);
        }

        if (shape[1] is < 2)
        {
            return (OutputKind.Embedding, true);
        }

        bool knownWidth = shape[1] is not null;
        return producer == Producer.Other ? (OutputKind.Embedding, false) : (ByProducer(producer), knownWidth);
    }

    private static OutputKind ByProducer(Producer producer) => producer switch
    {
        Producer.Classifier => OutputKind.Logits,
        Producer.Softmax => OutputKind.Probabilities,
        Producer.LogSoftmax => OutputKind.LogProbabilities,
        _ => OutputKind.Embedding,
    };

    /// <summary>Whether a shape can be one vector of K ≥ 2 values per sample (unknown dimensions are given the benefit of the doubt).</summary>
    private static bool CanHoldClassScores(long?[]? shape) =>
        shape is null || (shape.Length >= 2 && shape[1] is null or >= 2 && shape.Skip(2).All(d => d is null or 1));

    /// <summary>The node that computes <paramref name="tensor"/>, looking past shape-only nodes; null for a graph input or initializer.</summary>
    private static NodeProto? HeadNode(GraphProto graph, string tensor)
    {
        var producers = Producers(graph);
        NodeProto? node = null;
        for (int steps = 0; steps <= graph.Node.Count && producers.TryGetValue(tensor, out node); steps++)
        {
            if (!IsDefaultDomain(node) || !s_shapeOnly.Contains(node.OpType) || node.Input.Count == 0)
            {
                return node;
            }

            tensor = node.Input[0];
            node = null;
        }

        return node;
    }

    private static Producer Classify(GraphProto graph, NodeProto? head)
    {
        if (head is null || !IsDefaultDomain(head))
        {
            return Producer.Other;
        }

        return head.OpType switch
        {
            "Softmax" => Producer.Softmax,
            "LogSoftmax" => Producer.LogSoftmax,
            _ when s_featureMakers.Contains(head.OpType) => Producer.Features,
            _ when s_classifiers.Contains(head.OpType) => Producer.Classifier,
            // A bias added after a MatMul (or a Gemm or Conv without its own bias) is still the classifier layer;
            // an Add of two activations (a residual) is not.
            "Add" when head.Input.Any(i => HeadNode(graph, i) is { } n && IsDefaultDomain(n) && s_classifiers.Contains(n.OpType)) => Producer.Classifier,
            _ => Producer.Other,
        };
    }

    private static Dictionary<string, NodeProto> Producers(GraphProto graph)
    {
        var producers = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            foreach (var output in node.Output.Where(o => o.Length > 0))
            {
                producers[output] = node;
            }
        }

        return producers;
    }

    private static bool IsDefaultDomain(NodeProto node) => OnnxDomain.IsDefault(node.Domain);

    /// <summary>The declared dimensions, batch first (null where dynamic); null when the rank is not declared.</summary>
    private static long?[]? DeclaredShape(ValueInfoProto output)
    {
        var dims = output.Type?.TensorType?.Shape?.Dim;
        return dims is null
            ? null
            : dims.Select((d, i) => i > 0 && d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue > 0 ? d.DimValue : (long?)null).ToArray();
    }

    private static long?[] BatchFirst(long[] shape) => shape.Select((d, i) => i == 0 ? null : (long?)d).ToArray();

    private sealed record ProbeResult(long?[] Shape, bool RowsSumToOne);

    /// <summary>
    /// One forward pass of seeded N(0, 1) noise (batch 2, or the model's fixed batch): the output's actual shape and
    /// whether its rows are probabilities. Null when there is no probe or it fails (the graph's guess then stands;
    /// a model the executor cannot run fails later, where the executor is needed, with its own error).
    /// </summary>
    private static ProbeResult? RunProbe(Func<TorchGraph>? probe, bool ownsProbe)
    {
        if (probe is null)
        {
            return null;
        }

        TorchGraph? graph = null;
        try
        {
            graph = probe();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            using var generator = new Generator(0x5EED, graph.Device);
            long batch = graph.FixedBatch ?? 2;
            var input = randn([batch, .. graph.InputShape], generator: generator, device: graph.Device);
            var output = graph.Forward(input).Outputs[0];
            return new ProbeResult(BatchFirst(output.shape), RowsAreProbabilities(output));
        }
        catch (DsgException)
        {
            return null;
        }
        finally
        {
            if (ownsProbe)
            {
                graph?.Dispose();
            }
        }
    }

    /// <summary>Whether every row (one sample, flattened) has K ≥ 2 values that are non-negative and sum to 1.</summary>
    private static bool RowsAreProbabilities(Tensor output)
    {
        if (output.ndim < 2 || output.shape[0] == 0 || !output.is_floating_point())
        {
            return false;
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var rows = output.detach().to(float32).reshape(output.shape[0], -1);
        if (rows.shape[1] < 2 || rows.min().item<float>() < -ProbabilityTolerance)
        {
            return false;
        }

        return rows.sum(1).Minus(1).abs().max().item<float>() <= ProbabilityTolerance;
    }
}
