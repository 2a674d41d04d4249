using Dsg.Core.Evaluation;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using Dsg.Core.Quantization;

namespace Dsg.Core.Generation;

/// <summary>
/// What one sample costs a model: the multiply–accumulates of its Conv, ConvTranspose, Gemm and MatMul nodes for one
/// input sample, from the shapes ONNX Runtime gives those nodes on one zero sample. It is deterministic (the same
/// model and sample shape give the same count on every machine), so a budget derived from it can enter a cache key.
/// </summary>
public static class ModelCost
{
    private static readonly HashSet<string> s_counted = new(["Conv", "ConvTranspose", "Gemm", "MatMul"], StringComparer.Ordinal);

    /// <summary>Multiply–accumulates per sample of <paramref name="model"/> at <paramref name="sampleShape"/> (C, H, W).</summary>
    /// <exception cref="DsgException">DSG0709 when ONNX Runtime cannot run the model.</exception>
    public static double MultiplyAccumulatesPerSample(OnnxModel model, long[] sampleShape, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sampleShape);
        var nodes = model.Graph.Node.Where(n => OnnxDomain.IsDefault(n.Domain) && s_counted.Contains(n.OpType) && n.Input.Count >= 2 && n.Output.Count >= 1).ToList();
        if (nodes.Count == 0)
        {
            return 0;
        }

        var index = new GraphIndex(model.Graph);
        var tapped = nodes.SelectMany(n => n.OpType == "ConvTranspose" || n.OpType == "MatMul" ? new[] { n.Input[0], n.Input[1], n.Output[0] } : [n.Input[1], n.Output[0]])
            .Where(t => !index.IsInitializer(t) && !index.GraphInputs.Contains(t))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        using var runner = new OnnxRuntimeRunner(OnnxRuntimeRunner.WithOutputs(model, tapped), threads);
        long size = sampleShape.Aggregate(1L, (a, d) => a * d);
        var shapes = runner.Run(new float[size], [1, .. sampleShape], tapped).ToDictionary(r => r.Name, r => r.Shape, StringComparer.Ordinal);
        long[] ShapeOf(string tensor) =>
            index.Initializers.TryGetValue(tensor, out var t) ? [.. t.Dims]
            : index.GraphInputs.Contains(tensor) ? [1, .. sampleShape]
            : shapes[tensor];
        static double Count(long[] shape) => shape.Aggregate(1.0, (a, d) => a * d);

        double total = 0;
        foreach (var node in nodes)
        {
            var weight = ShapeOf(node.Input[1]);
            var output = ShapeOf(node.Output[0]);
            total += node.OpType switch
            {
                // Each output value takes (Cin / group) × kernel products: the weight's values per output channel.
                "Conv" when weight.Length >= 2 && weight[0] > 0 => Count(output) * (Count(weight) / weight[0]),
                // Each input value is spread over (Cout / group) × kernel outputs: the weight's values per input channel.
                "ConvTranspose" when weight.Length >= 2 && weight[0] > 0 => Count(ShapeOf(node.Input[0])) * (Count(weight) / weight[0]),
                // Each output value takes K products, K being the shared dimension.
                "Gemm" when weight.Length == 2 => Count(output) * (Transposed(node, "transB") ? weight[1] : weight[0]),
                "MatMul" when weight.Length >= 2 => Count(output) * weight[^2],
                _ => 0,
            };
        }

        return total;
    }

    private static bool Transposed(NodeProto node, string attribute) =>
        node.Attribute.FirstOrDefault(a => a.Name == attribute) is { } a && a.I != 0;
}
