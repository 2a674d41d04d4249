using System.Globalization;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using Dsg.Core.Runtime;

namespace Dsg.Core.Generation;

/// <summary>
/// What one sample costs a model, counted from the shapes ONNX Runtime gives its nodes on one zero sample: the
/// multiply–accumulates of its Conv, ConvTranspose, Gemm and MatMul nodes, and the activation values its float nodes
/// write. Both are deterministic (the same model and sample shape give the same counts on every machine), so a budget
/// derived from them can enter a cache key. A generation step's time depends on both: on 2 CPU cores the values,
/// each written, read and back-propagated by element-wise kernels, weigh more than the arithmetic
/// (<see cref="SecondsPerSampleStep"/>; docs/performance.md).
/// </summary>
/// <param name="MultiplyAccumulates">Multiply–accumulates per sample.</param>
/// <param name="ActivationValues">Values written per sample by the float nodes (convolutions, normalisations, activations, pools, element-wise arithmetic).</param>
public sealed record ModelCost(double MultiplyAccumulates, double ActivationValues)
{
    /// <summary>
    /// Seconds per multiply–accumulate of one generation step (forward and backward) on the reference machine:
    /// fitted with <see cref="SecondsPerValue"/> (least squares of the relative error) to the DSG iterations of ResNet-18
    /// and MobileNetV2 at 224×224 (batch 32) and of the two 28×28 test assets (batch 64), 2 threads, with the tool's
    /// malloc settings (docs/performance.md, 2026-11-30); the estimates are +3 %, +8 %, −14 % and +0 % of the four.
    /// </summary>
    public const double SecondsPerMultiplyAccumulate = 1.54e-11;

    /// <summary>Seconds per activation value of one generation step on the reference machine (see <see cref="SecondsPerMultiplyAccumulate"/>).</summary>
    public const double SecondsPerValue = 3.2e-9;

    private static readonly HashSet<string> s_arithmetic = new(["Conv", "ConvTranspose", "Gemm", "MatMul"], StringComparer.Ordinal);

    /// <summary>Nodes whose outputs are float activations whatever their inputs.</summary>
    private static readonly HashSet<string> s_floatNodes = new(
        ["Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "InstanceNormalization", "LayerNormalization", "Relu", "LeakyRelu",
         "PRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Softmax", "LogSoftmax", "MaxPool", "AveragePool",
         "GlobalAveragePool", "GlobalMaxPool", "Resize", "Upsample"],
        StringComparer.Ordinal);

    /// <summary>Nodes whose outputs are float activations when one of their inputs is.</summary>
    private static readonly HashSet<string> s_passThrough = new(["Add", "Sub", "Mul", "Div", "Concat", "Pad"], StringComparer.Ordinal);

    /// <summary>No cost: what a source that does not optimise spends per step.</summary>
    public static ModelCost Free { get; } = new(0, 0);

    /// <summary>Estimated seconds of one generation step for one sample on the reference machine (2 threads).</summary>
    public double SecondsPerSampleStep => (MultiplyAccumulates * SecondsPerMultiplyAccumulate) + (ActivationValues * SecondsPerValue);

    /// <summary>One line for logs: "1.82 GMAC, 2.9 M activation values a sample".</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{MultiplyAccumulates / 1e9:0.###} GMAC, {ActivationValues / 1e6:0.#} M activation values a sample");

    /// <summary>Counts the cost of one sample of shape <paramref name="sampleShape"/> (C, H, W) through <paramref name="model"/>.</summary>
    /// <exception cref="DsgException">DSG0709 when ONNX Runtime cannot run the model.</exception>
    public static ModelCost Measure(OnnxModel model, long[] sampleShape, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sampleShape);
        var index = new GraphIndex(model.Graph);
        var nodes = model.Graph.Node.Where(n => OnnxDomain.IsDefault(n.Domain) && n.Output.Count >= 1 && n.Output[0].Length > 0).ToList();
        // Float activations in graph order (ONNX nodes are topologically sorted): the image input, then what float nodes make.
        var activations = new HashSet<string>(index.GraphInputs, StringComparer.Ordinal);
        var produced = new List<string>();
        foreach (var node in nodes)
        {
            if (s_floatNodes.Contains(node.OpType) || (s_passThrough.Contains(node.OpType) && node.Input.Any(activations.Contains)))
            {
                activations.Add(node.Output[0]);
                produced.Add(node.Output[0]);
            }
        }

        var arithmetic = nodes.Where(n => s_arithmetic.Contains(n.OpType) && n.Input.Count >= 2).ToList();
        var tapped = produced.Concat(arithmetic.Select(n => n.Input[1]))
            .Where(t => !index.IsInitializer(t) && !index.GraphInputs.Contains(t))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (tapped.Count == 0)
        {
            return Free;
        }

        Dictionary<string, long[]> shapes;
        using (var runner = new OnnxRuntimeRunner(OnnxRuntimeRunner.WithOutputs(model, tapped), threads))
        {
            long size = sampleShape.Aggregate(1L, (a, d) => a * d);
            shapes = runner.Run(new float[size], [1, .. sampleShape], tapped).ToDictionary(r => r.Name, r => r.Shape, StringComparer.Ordinal);
        }

        long[] ShapeOf(string tensor) =>
            index.Initializers.TryGetValue(tensor, out var t) ? [.. t.Dims]
            : index.GraphInputs.Contains(tensor) ? [1, .. sampleShape]
            : shapes[tensor];
        static double Count(long[] shape) => shape.Aggregate(1.0, (a, d) => a * d);

        double macs = 0;
        foreach (var node in arithmetic)
        {
            var weight = ShapeOf(node.Input[1]);
            var output = ShapeOf(node.Output[0]);
            macs += node.OpType switch
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

        return new ModelCost(macs, produced.Sum(t => Count(ShapeOf(t))));
    }

    private static bool Transposed(NodeProto node, string attribute) =>
        node.Attribute.FirstOrDefault(a => a.Name == attribute) is { } a && a.I != 0;
}
