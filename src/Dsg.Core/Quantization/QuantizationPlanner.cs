using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Import;
using Dsg.Core.Onnx.Proto;
using Dsg.Core.Quantization.Qdq;

namespace Dsg.Core.Quantization;

/// <summary>Walks a BN-folded model and asks each operator's handler what to quantize.</summary>
public static class QuantizationPlanner
{
    /// <summary>
    /// Plans the quantization of <paramref name="folded"/>. Unnamed nodes get names first (the model is changed in
    /// place), so every site can refer to its node.
    /// </summary>
    /// <exception cref="DsgException">DSG0706 for opset below 13; DSG0707 when nothing has weights to quantize.</exception>
    public static QuantizationPlan Plan(OnnxModel folded, QuantizationOptions options)
    {
        options.Validate();
        if (folded.Opset < ModelImporter.MinimumOpset)
        {
            throw new DsgException(ErrorCodes.OpsetTooOldForQuantization,
                $"'{folded.DisplayName}' uses opset {folded.Opset}; per-channel QDQ quantization needs opset {ModelImporter.MinimumOpset} or newer.",
                "Import the model first (ModelImporter.Import upgrades it), or re-export it with opset_version=13 or newer.") { FilePath = folded.DisplayName };
        }

        NameNodes(folded.Graph);
        var builder = new QdqPlanBuilder(new GraphIndex(folded.Graph), options);
        foreach (var node in folded.Graph.Node)
        {
            QdqHandlerRegistry.For(node)?.Plan(node, builder);
        }

        var plan = builder.Build();
        if (plan.Weights.Count == 0)
        {
            throw new DsgException(ErrorCodes.NothingToQuantize,
                $"'{folded.DisplayName}' has no Conv, ConvTranspose, Gemm or MatMul with constant weights, so there is nothing to quantize.",
                "Dsg quantizes image models built from convolutions and fully connected layers; check that the weights are initializers, not graph inputs.")
            { FilePath = folded.DisplayName };
        }

        return plan;
    }

    /// <summary>Gives every unnamed (or duplicate-named) node a unique name.</summary>
    internal static void NameNodes(GraphProto graph)
    {
        var all = graph.Node.Select(n => n.Name).Where(n => n.Length > 0).ToHashSet(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < graph.Node.Count; i++)
        {
            var node = graph.Node[i];
            if (node.Name.Length > 0 && seen.Add(node.Name))
            {
                continue;
            }

            string name = $"{node.OpType}_{i}";
            for (int k = 1; all.Contains(name); k++)
            {
                name = $"{node.OpType}_{i}_{k}";
            }

            node.Name = name;
            all.Add(name);
            seen.Add(name);
        }
    }
}
