using Dsg.Core.Onnx.Proto;
using Google.Protobuf;

namespace Dsg.Core.Onnx.Import;

/// <summary>
/// Raises a graph's default-domain opset from 7–12 to <see cref="ModelImporter.MinimumOpset"/>: ops whose form
/// changed on the way (attributes that became inputs, BatchNormalization's <c>spatial</c>, Softmax's 2-D coercion,
/// Upsample's replacement by Resize, Dropout's ratio) are rewritten; ops that changed only by gaining attributes or
/// types are kept; any other op stops the upgrade with DSG0206, naming it.
/// </summary>
internal static class OpsetUpgrader
{
    /// <summary>The oldest default-domain opset Dsg upgrades from.</summary>
    public const long OldestOpset = 7;

    /// <summary>Ops whose meaning, for every model valid at opsets 7–12, is the same at opset 13.</summary>
    private static readonly HashSet<string> s_unchanged = new(StringComparer.Ordinal)
    {
        "Abs", "Acos", "Acosh", "Add", "And", "ArgMax", "ArgMin", "Asin", "Asinh", "Atan", "Atanh", "AveragePool",
        "Cast", "Ceil", "Celu", "Concat", "Constant", "ConstantOfShape", "Conv", "ConvTranspose", "Cos", "Cosh",
        "CumSum", "DepthToSpace", "Div", "Einsum", "Elu", "Equal", "Erf", "Exp", "Expand", "Flatten", "Floor", "Gather",
        "GatherElements", "GatherND", "Gemm", "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool", "Greater",
        "GreaterOrEqual", "HardSigmoid", "Identity", "InstanceNormalization", "IsInf", "IsNaN", "LeakyRelu", "Less",
        "LessOrEqual", "Log", "LpNormalization", "LRN", "MatMul", "Max", "MaxPool", "Mean", "MeanVarianceNormalization",
        "Min", "Mod", "Mul", "Neg", "NonZero", "Not", "Or", "Pow", "PRelu", "Range", "Reciprocal", "ReduceL1", "ReduceL2",
        "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSumSquare", "Relu",
        "Round", "Selu", "Shape", "Sigmoid", "Sign", "Sin", "Sinh", "Size", "Softplus", "Softsign", "SpaceToDepth", "Sqrt",
        "Sub", "Sum", "Tan", "Tanh", "ThresholdedRelu", "Tile", "Transpose", "Where", "Xor",
    };

    /// <summary>Rewrites one node; returns whether anything changed.</summary>
    private delegate bool Adapter(UpgradeContext context, NodeProto node);

    /// <summary>Ops rewritten on the way up, with the opset from which their form is already the new one.</summary>
    private static readonly Dictionary<string, (long Since, Adapter Adapt)> s_adapters = new(StringComparer.Ordinal)
    {
        ["BatchNormalization"] = (13, BatchNormalization),
        ["Dropout"] = (12, Dropout),
        ["Reshape"] = (5, (c, n) => c.AttributeToInput(n, "shape", 1, required: true)),
        ["Pad"] = (11, Pad),
        ["Slice"] = (10, Slice),
        ["Squeeze"] = (13, (c, n) => c.AttributeToInput(n, "axes", 1, required: false)),
        ["Unsqueeze"] = (13, (c, n) => c.AttributeToInput(n, "axes", 1, required: true)),
        ["ReduceSum"] = (13, (c, n) => c.AttributeToInput(n, "axes", 1, required: false)),
        ["Split"] = (13, (c, n) => c.AttributeToInput(n, "split", 1, required: false)),
        ["Clip"] = (11, Clip),
        ["Upsample"] = (long.MaxValue, Upsample),
        ["Resize"] = (11, Resize10),
        ["Softmax"] = (13, Softmax),
        ["LogSoftmax"] = (13, Softmax),
        ["Hardmax"] = (13, Softmax),
        ["ImageScaler"] = (long.MaxValue, ImageScaler),
    };

    /// <summary>Upgrades <paramref name="graph"/> in place from <paramref name="opset"/> and returns what changed.</summary>
    /// <exception cref="DsgException">DSG0206 naming each op (and node) that cannot be converted.</exception>
    public static IReadOnlyList<string> Upgrade(GraphProto graph, long opset, string displayName)
    {
        if (opset < OldestOpset)
        {
            throw new DsgException(ErrorCodes.OpsetNotUpgradable,
                $"'{displayName}' uses opset {opset}; Dsg upgrades models from opset {OldestOpset} on (quantized models need {ModelImporter.MinimumOpset}).",
                $"Re-export the model at opset {ModelImporter.MinimumOpset} or newer, or convert it first with onnx.version_converter.convert_version(model, {ModelImporter.MinimumOpset}).")
            { FilePath = displayName };
        }

        var refused = graph.Node
            .Where(n => OnnxDomain.IsDefault(n.Domain) && !s_unchanged.Contains(n.OpType) && !s_adapters.ContainsKey(n.OpType))
            .GroupBy(n => n.OpType, StringComparer.Ordinal)
            .Select(g => $"{g.Key} ({string.Join(", ", g.Take(3).Select(Describe))}{(g.Count() > 3 ? ", ..." : "")})")
            .ToList();
        if (refused.Count > 0)
        {
            throw Refused(displayName, opset, $"it has no conversion for {string.Join("; ", refused)}");
        }

        var context = new UpgradeContext(graph, displayName, opset);
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in graph.Node.ToList())
        {
            if (OnnxDomain.IsDefault(node.Domain) && s_adapters.TryGetValue(node.OpType, out var adapter) && opset < adapter.Since)
            {
                string before = node.OpType;
                if (adapter.Adapt(context, node))
                {
                    counts[before] = counts.GetValueOrDefault(before) + 1;
                }
            }
        }

        return [.. counts.Select(c => $"{c.Key} ×{c.Value} converted from opset {opset} to {ModelImporter.MinimumOpset}")];
    }

    private static string Describe(NodeProto node) => string.IsNullOrEmpty(node.Name) ? $"-> '{node.Output.FirstOrDefault()}'" : $"'{node.Name}'";

    private static DsgException Refused(string displayName, long opset, string why) =>
        new(ErrorCodes.OpsetNotUpgradable,
            $"'{displayName}' (opset {opset}) cannot be upgraded to opset {ModelImporter.MinimumOpset}, which quantized models need: {why}.",
            $"Re-export the model at opset {ModelImporter.MinimumOpset} or newer; docs/models.md lists the ops Dsg converts.")
        { FilePath = displayName };

    private static bool BatchNormalization(UpgradeContext c, NodeProto node)
    {
        if (c.Int(node, "spatial", 1) != 1)
        {
            throw c.NodeRefused(node, "spatial=0 (per-activation statistics) has no opset-13 form");
        }

        if (c.Int(node, "is_test", 1) == 0 && c.Opset < 7)
        {
            throw c.NodeRefused(node, "is_test=0 (training mode)");
        }

        return c.RemoveAttributes(node, "spatial", "is_test", "consumed_inputs") | c.KeepOnlyFirstOutput(node);
    }

    private static bool Dropout(UpgradeContext c, NodeProto node)
    {
        // Inference: Dropout is the identity. The opset-13 form without a ratio input and training_mode means exactly that.
        return c.RemoveAttributes(node, "ratio", "is_test", "seed") | c.KeepOnlyFirstOutput(node);
    }

    private static bool Pad(UpgradeContext c, NodeProto node)
    {
        var pads = c.Ints(node, c.Opset < 2 ? "paddings" : "pads") ?? throw c.NodeRefused(node, "the pads attribute is missing");
        float value = c.Float(node, "value", 0f);
        c.RemoveAttributes(node, "pads", "paddings", "value");
        node.Input.Add(c.Int64Initializer(node, "pads", pads));
        if (value != 0f)
        {
            node.Input.Add(c.FloatInitializer(node, "value", [value]));
        }

        return true;
    }

    private static bool Slice(UpgradeContext c, NodeProto node)
    {
        var starts = c.Ints(node, "starts") ?? throw c.NodeRefused(node, "the starts attribute is missing");
        var ends = c.Ints(node, "ends") ?? throw c.NodeRefused(node, "the ends attribute is missing");
        var axes = c.Ints(node, "axes");
        c.RemoveAttributes(node, "starts", "ends", "axes");
        node.Input.Add(c.Int64Initializer(node, "starts", starts));
        node.Input.Add(c.Int64Initializer(node, "ends", ends));
        if (axes is not null)
        {
            node.Input.Add(c.Int64Initializer(node, "axes", axes));
        }

        return true;
    }

    private static bool Clip(UpgradeContext c, NodeProto node)
    {
        bool hasMin = c.Has(node, "min"), hasMax = c.Has(node, "max");
        float min = c.Float(node, "min", float.MinValue), max = c.Float(node, "max", float.MaxValue);
        c.RemoveAttributes(node, "min", "max");
        if (hasMin || hasMax)
        {
            node.Input.Add(hasMin ? c.FloatInitializer(node, "min", [min], scalar: true) : "");
        }

        if (hasMax)
        {
            node.Input.Add(c.FloatInitializer(node, "max", [max], scalar: true));
        }

        return hasMin || hasMax;
    }

    private static bool Upsample(UpgradeContext c, NodeProto node)
    {
        string scales;
        if (c.Has(node, "scales"))
        {
            var values = c.Floats(node, "scales") ?? throw c.NodeRefused(node, "the scales attribute is not a float list");
            scales = c.FloatInitializer(node, "scales", values);
        }
        else if (node.Input.Count >= 2 && node.Input[1].Length > 0)
        {
            scales = node.Input[1];
        }
        else
        {
            throw c.NodeRefused(node, "it has no scales");
        }

        LegacyResize(c, node, node.Input[0], scales);
        return true;
    }

    private static bool Resize10(UpgradeContext c, NodeProto node)
    {
        if (node.Input.Count < 2 || node.Input[1].Length == 0)
        {
            throw c.NodeRefused(node, "it has no scales input");
        }

        LegacyResize(c, node, node.Input[0], node.Input[1]);
        return true;
    }

    /// <summary>Upsample (7–9) and Resize-10 sample at x_out / scale, nearest rounding down: Resize-13 asymmetric with floor.</summary>
    private static void LegacyResize(UpgradeContext c, NodeProto node, string x, string scales)
    {
        string mode = c.String(node, "mode", "nearest").ToLowerInvariant();
        mode = mode is "bilinear" or "linear" ? "linear" : mode;
        if (mode is not ("nearest" or "linear"))
        {
            throw c.NodeRefused(node, $"mode '{mode}' has no opset-13 equivalent here");
        }

        node.OpType = "Resize";
        node.Attribute.Clear();
        node.Input.Clear();
        node.Input.Add([x, "", scales]);
        node.Attribute.Add(new AttributeProto { Name = "mode", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(mode) });
        node.Attribute.Add(new AttributeProto
        {
            Name = "coordinate_transformation_mode", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("asymmetric"),
        });
        if (mode == "nearest")
        {
            node.Attribute.Add(new AttributeProto { Name = "nearest_mode", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("floor") });
        }
    }

    /// <summary>
    /// Before 13, Softmax coerced its input to 2-D at <c>axis</c> (default 1) and normalised over everything after it.
    /// On a 2-D input (a classifier head) that is Softmax over axis 1; otherwise it is rewritten as
    /// Flatten(axis) → Softmax(-1) → Reshape(Shape(x)).
    /// </summary>
    private static bool Softmax(UpgradeContext c, NodeProto node)
    {
        long axis = c.Int(node, "axis", 1);
        c.RemoveAttributes(node, "axis");
        if (c.RankOf(node.Input[0]) is long rank && (rank == 2 || axis == rank - 1 || axis == -1))
        {
            node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = axis });
            return false;
        }

        string x = node.Input[0], y = node.Output[0];
        string shape = c.Fresh(y + "_shape"), flat = c.Fresh(y + "_2d"), normalised = c.Fresh(y + "_2d_out");
        c.InsertBefore(node, new NodeProto { OpType = "Shape", Name = c.Fresh(NodeName(node) + "_shape"), Input = { x }, Output = { shape } });
        c.InsertBefore(node, new NodeProto
        {
            OpType = "Flatten", Name = c.Fresh(NodeName(node) + "_flatten"), Input = { x }, Output = { flat },
            Attribute = { new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = axis } },
        });
        node.Input[0] = flat;
        node.Output[0] = normalised;
        node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = -1 });
        c.InsertAfter(node, new NodeProto { OpType = "Reshape", Name = c.Fresh(NodeName(node) + "_reshape"), Input = { normalised, shape }, Output = { y } });
        return true;
    }

    /// <summary>The experimental ImageScaler (CNTK, Caffe2 exports): y = scale · x + bias[c], as Mul and Add.</summary>
    private static bool ImageScaler(UpgradeContext c, NodeProto node)
    {
        float scale = c.Float(node, "scale", 1f);
        var bias = c.Floats(node, "bias") ?? [];
        string x = node.Input[0], y = node.Output[0];
        string scaled = c.Fresh(y + "_scaled");
        node.OpType = "Mul";
        node.Attribute.Clear();
        node.Input.Clear();
        node.Input.Add([x, c.FloatInitializer(node, "scale", [scale], scalar: true)]);
        node.Output[0] = bias.Length == 0 ? y : scaled;
        if (bias.Length > 0)
        {
            string biasName = c.Fresh(NodeName(node) + "_bias");
            c.AddInitializer(OnnxTensor.FromFloats(biasName, bias, bias.Length, 1, 1));
            c.InsertAfter(node, new NodeProto { OpType = "Add", Name = c.Fresh(NodeName(node) + "_add"), Input = { scaled, biasName }, Output = { y } });
        }

        return true;
    }

    private static string NodeName(NodeProto node) => string.IsNullOrEmpty(node.Name) ? node.Output.FirstOrDefault() ?? node.OpType : node.Name;
}
