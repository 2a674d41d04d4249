using Dsg.Core.Graph;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using Dsg.Core.Quantization;
using Dsg.Core.Quantization.Refinement;
using Dsg.Core.Runtime;
using Dsg.Tests.Shared;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Tests.Quantization.Refinement;

public sealed class BrecqRefinerTests
{
    private static readonly QuantizationOptions s_w4a4 = QuantizationOptions.FromPrecision("W4A4") with { Recipe = QuantizationRecipe.Paper };

    private static readonly Lazy<QuantizationResult> s_tiny = new(() => Refined("tiny_cnn.onnx", 150));

    private static readonly Lazy<QuantizationResult> s_resnet = new(() => Refined("resnet_fmnist.onnx", 80));

    private static QuantizationResult Refined(string asset, int iterations, bool augment = AdaRoundSettings.DefaultAugment) => ModelQuantizer.Quantize(
        OnnxModel.Load(RepoPaths.Model(asset)), TestData.Real, s_w4a4 with { Refine = RefinementMethod.Brecq, RefineIterations = iterations, RefineAugment = augment });

    [Fact]
    public void WithoutTheMirroredImagesEachBlockLearnsSomethingElse()
    {
        var mirrored = s_tiny.Value.Refinement.Weights;

        var plain = Refined("tiny_cnn.onnx", 150, augment: false);

        LearnsAndWrites(plain);
        Assert.Contains(mirrored.Keys, k => !mirrored[k].Values.SequenceEqual(plain.Refinement.Weights[k].Values));
    }

    private static (OnnxModel Folded, IReadOnlyList<GraphBlock> Blocks) Partition(string asset)
    {
        var (folded, _) = BatchNormFolder.Fold(OnnxModel.Load(RepoPaths.Model(asset)));
        var plan = QuantizationPlanner.Plan(folded, s_w4a4);
        return (folded, BlockPartition.Find(folded, plan.Weights.Select(w => w.Node).ToHashSet(StringComparer.Ordinal)));
    }

    [Fact]
    public void TheResNetAssetSplitsIntoItsStemItsThreeResidualBlocksAndItsHead()
    {
        var (_, blocks) = Partition("resnet_fmnist.onnx");

        Assert.Equal(
            [
                ["/stem/stem.0/Conv"],
                ["/layers/layers.0/conv1/Conv", "/layers/layers.0/conv2/Conv"],
                ["/layers/layers.1/conv1/Conv", "/layers/layers.1/conv2/Conv", "/layers/layers.1/shortcut/shortcut.0/Conv"],
                ["/layers/layers.2/conv1/Conv", "/layers/layers.2/conv2/Conv", "/layers/layers.2/shortcut/shortcut.0/Conv"],
                ["/fc/Gemm"],
            ],
            blocks.Select(b => b.WeightNodes.ToArray()).ToArray());
        // Each residual block holds its merge and the Relu after it; the pooling before the head joins the last block.
        Assert.All(blocks.Skip(1).Take(3), b => Assert.Contains("Add,Relu", string.Join(",", b.Nodes.Select(n => n.OpType))));
        Assert.Equal(["GlobalAveragePool", "Flatten"], blocks[3].Nodes.TakeLast(2).Select(n => n.OpType));
        Assert.Equal("Relu", blocks[0].Nodes[^1].OpType);
        Assert.Equal([blocks[0].Outputs[0], blocks[1].Outputs[0], blocks[2].Outputs[0], blocks[3].Outputs[0]], blocks.Skip(1).Select(b => b.Input));
    }

    [Fact]
    public void TheMobileNetAssetKeepsEachInvertedResidualWithItsSkipInOneBlock()
    {
        var (folded, blocks) = Partition("mobilenetv2_fmnist.onnx");
        var (_, all) = (folded, folded.Graph.Node.Where(n => n.OpType is "Conv" or "Gemm").Select(n => n.Name).ToList());

        // Every weighted node in exactly one block, in graph order.
        Assert.Equal(all, blocks.SelectMany(b => b.WeightNodes));
        var adds = blocks.Where(b => b.Nodes.Any(n => n.OpType == "Add")).ToList();
        Assert.NotEmpty(adds);
        foreach (var block in adds)
        {
            // Both operands of each merge come from inside the block or are the block input: the skip never leaves it.
            var produced = block.Nodes.SelectMany(n => n.Output).Append(block.Input).ToHashSet(StringComparer.Ordinal);
            Assert.All(block.Nodes.Where(n => n.OpType == "Add"), add => Assert.All(add.Input, i => Assert.Contains(i, produced)));
            Assert.Equal(3, block.WeightNodes.Count);
        }

        Assert.Equal(blocks.Count, blocks.Select(b => b.Input).Distinct().Count());
        Assert.True(blocks.Count < all.Count, "a chain cut after every layer would not group the inverted residuals");
    }

    [Fact]
    public void AGraphWithTwoInputsIsRefusedWithItsOwnCode()
    {
        var graph = new GraphProto { Name = "two" };
        graph.Input.Add(new ValueInfoProto { Name = "a" });
        graph.Input.Add(new ValueInfoProto { Name = "b" });
        graph.Output.Add(new ValueInfoProto { Name = "c" });
        var add = new NodeProto { Name = "add", OpType = "Add" };
        add.Input.AddRange(["a", "b"]);
        add.Output.Add("c");
        graph.Node.Add(add);
        var model = OnnxModel.FromProto(new ModelProto { Graph = graph });

        var e = Assert.Throws<DsgException>(() => BlockPartition.Find(model, new HashSet<string> { "add" }));
        Assert.Equal(ErrorCodes.RefinementUnsupported, e.Code);
        Assert.Contains("--refine adaround", e.Hint);
    }

    [Fact]
    public void BrecqLowersEveryTinyBlocksErrorAndWritesTheLearnedIntegersAndStepSizes() => LearnsAndWrites(s_tiny.Value);

    [Fact]
    [Trait("Category", "Slow")]
    public void BrecqLowersEveryResNetBlocksErrorAndWritesTheLearnedIntegersAndStepSizes() => LearnsAndWrites(s_resnet.Value);

    internal static void LearnsAndWrites(QuantizationResult result)
    {
        var refined = result.Refinement;
        Assert.Equal(result.Plan.Weights.Select(w => w.Initializer).Distinct().Count(), refined.Weights.Count);
        // A block keeps what it learned only where that reconstructs it better than nearest rounding; most blocks do.
        Assert.All(refined.Layers, l => Assert.True(l.LearnedError < l.NearestError || l.Changed == 0, $"{l.Node}: {l.LearnedError} vs {l.NearestError}, {l.Changed:P1} changed"));
        var blocks = refined.Layers.DistinctBy(l => (l.NearestError, l.LearnedError)).ToList();
        Assert.True(blocks.Count(l => l.LearnedError < 0.97 * l.NearestError) * 2 > blocks.Count,
            string.Join("; ", blocks.Select(l => $"{l.Node}: {l.LearnedError:G4} vs {l.NearestError:G4}")));
        Assert.Contains(refined.Layers, l => l.Changed > 0);
        var initializers = result.Model.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var written in result.Qdq.Weights)
        {
            var learned = refined.Weights[written.Site.Initializer];
            Assert.Equal(learned.Values.Select(q => (float)q), OnnxTensor.ToFloats(initializers[written.QuantizedName], result.Model));
        }

        // The learned step sizes replace the calibrated ones in the written model (and at least one moved).
        var learnedSteps = Assert.IsAssignableFrom<IReadOnlyDictionary<string, QuantParams>>(refined.Activations);
        Assert.NotEmpty(learnedSteps);
        int moved = 0;
        foreach (var (tensor, parameters) in learnedSteps)
        {
            var calibrated = result.Activations.Single(a => a.Site.Tensor == tensor).Params;
            Assert.Equal(calibrated.ZeroPoint, parameters.ZeroPoint);
            Assert.Equal(calibrated.Grid, parameters.Grid);
            moved += parameters.Scale != calibrated.Scale ? 1 : 0;
            var qdq = result.Qdq.Activations.Single(a => a.Calibration.Site.Tensor == tensor);
            var quantize = result.Model.Graph.Node.Single(n => n.OpType == "QuantizeLinear" && n.Output[0] == qdq.QuantizedName);
            Assert.Equal([parameters.Scale], OnnxTensor.ToFloats(initializers[quantize.Input[1]], result.Model));
        }

        Assert.True(moved > 0, "no step size moved, so this test would not see a writer that ignores them");
    }

    [Fact]
    public void OnnxRuntimeRunsEachLearnedTinyBlockAsTheFakeQuantBlockComputesIt() => OnnxRuntimeRunsTheLearnedBlocks("tiny_cnn.onnx", s_tiny.Value);

    [Fact]
    [Trait("Category", "Slow")]
    public void OnnxRuntimeRunsEachLearnedResNetBlockAsTheFakeQuantBlockComputesIt() => OnnxRuntimeRunsTheLearnedBlocks("resnet_fmnist.onnx", s_resnet.Value);

    /// <summary>
    /// Each block of the written model, fed by ONNX Runtime the block input it sees, gives in ONNX Runtime what the block
    /// graph gives in TorchSharp with the learned weights dequantized and every activation it quantizes fake-quantized
    /// with the learned parameters (ONNX Runtime's QuantizeLinear: round half to even, saturate; then DequantizeLinear).
    /// </summary>
    internal static void OnnxRuntimeRunsTheLearnedBlocks(string asset, QuantizationResult result, bool whole = false)
    {
        var (folded, blocks) = Partition(asset);
        if (whole)
        {
            blocks = [BlockPartition.Whole(folded, blocks.SelectMany(b => b.WeightNodes).ToHashSet(StringComparer.Ordinal))];
        }

        var written = result.Qdq.Activations.ToDictionary(a => a.Calibration.Site.Tensor, StringComparer.Ordinal);
        var outputs = folded.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        string Seen(string tensor) => written.TryGetValue(tensor, out var a) && !outputs.Contains(tensor) ? a.DequantizedName : tensor;
        foreach (var block in blocks)
        {
            var names = new[] { Seen(block.Input) }.Concat(block.Outputs.Select(Seen)).ToArray();
            // Without graph optimisations ONNX Runtime runs QuantizeLinear/DequantizeLinear as written (its fused integer
            // kernels requantize in fixed point, which moves values on a rounding boundary by a step).
            using var runner = new OnnxRuntimeRunner(OnnxRuntimeRunner.WithOutputs(result.Model, names), level: Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_DISABLE_ALL);
            var ort = runner.Run(TestData.Real.Values(0, 16), TestData.Real.BatchShape(16), names);
            var dequantized = result.Plan.Weights.Where(w => block.Nodes.Any(n => n.Name == w.Node)).DistinctBy(w => w.Initializer)
                .ToDictionary(w => w.Initializer, w => result.Refinement.Weights.TryGetValue(w.Initializer, out var q) ? q.Dequantize()
                    : throw new InvalidOperationException($"{w.Initializer} was not learned"), StringComparer.Ordinal);
            // The biases as the written model stores them (int32 × input scale × weight scale), which ONNX Runtime adds.
            foreach (var node in block.Nodes.Where(n => n.Input.Count > 2 && n.Input[2].Length > 0 && dequantized.ContainsKey(n.Input[1])))
            {
                var stored = result.Model.Graph.Node.Single(n => n.Name == node.Name).Input[2];
                dequantized[node.Input[2]] = AdaRoundRefinerTests.StoredBias(result.Model, stored);
            }

            var sub = BlockModel.Build(folded, block, ort[0].Shape[1..], new Dictionary<string, long[]>(), dequantized);
            using var graph = TorchGraph.Create(sub);
            using var scope = NewDisposeScope();
            var produced = block.Nodes.SelectMany(n => n.Output).ToHashSet(StringComparer.Ordinal);
            var quantize = result.Qdq.Activations.Where(a => produced.Contains(a.Calibration.Site.Tensor) && !outputs.Contains(a.Calibration.Site.Tensor))
                .ToDictionary(a => a.Calibration.Site.Tensor, a => (Func<Tensor, Tensor>)(x => FakeQuantize(x, a.Calibration.Params)), StringComparer.Ordinal);
            var computed = graph.Run(new Dictionary<string, Tensor> { [block.Input] = torch.tensor(ort[0].Floats, ort[0].Shape) }, quantize);
            for (int o = 0; o < block.Outputs.Count; o++)
            {
                var expected = computed[block.Outputs[o]].data<float>().ToArray();
                var actual = ort[o + 1].Floats;
                double scale = expected.Max(v => Math.Abs(v));
                // A value on a rounding boundary (a tie that float summation order breaks either way, as a pooled average
                // of quantized values can be) lands exactly one step of the output's quantizer apart: allow up to 1 % of
                // such. Any other difference is systematic (a step size or an integer written other than learned): at
                // most one value in 1,000.
                double step = written.TryGetValue(block.Outputs[o], out var site) && !outputs.Contains(block.Outputs[o]) ? site.Calibration.Params.Scale : double.NaN;
                bool Tie(double difference) => Math.Abs(difference - step) <= 1e-3 * step;
                var differences = expected.Zip(actual).Select(p => Math.Abs((double)p.First - p.Second)).Where(d => d > 1e-4 * scale).ToList();
                int ties = differences.Count(Tie);
                int off = differences.Count - ties;
                Assert.True(off <= expected.Length / 1000 && ties <= expected.Length / 100,
                    $"block at {block.Input}, output {block.Outputs[o]}: {off} of {expected.Length} values differ, {ties} by exactly one step (outputs up to {scale:G3})");
            }
        }
    }

    private static Tensor FakeQuantize(Tensor x, QuantParams p)
    {
        using var scope = NewDisposeScope();
        var s = torch.tensor(p.Scale);
        var z = torch.tensor((float)p.ZeroPoint);
        var q = x.div(s).round().Plus(z).clamp(torch.tensor((float)p.Grid.QMin), torch.tensor((float)p.Grid.QMax));
        return q.sub(z).mul(s).MoveToOuterDisposeScope();
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void QDropTakesEachBlockInputValueFromTheFullPrecisionModelWithTheDropProbability(double probability)
    {
        using var scope = NewDisposeScope();
        var quantized = zeros(4, 8, 16, 16);
        var fullPrecision = ones(4, 8, 16, 16);
        using var generator = new Generator(7);
        using var drop = probability.ToScalar();

        var values = BlockReconstruction.MixInputs(quantized, fullPrecision, generator, drop).data<float>().ToArray();

        Assert.Equal(quantized.numel(), values.Length);
        Assert.All(values, v => Assert.True(v is 0f or 1f, $"{v} is from neither input"));
        // 8,192 values: the fraction from the fp32 input is within 0.03 of the probability (about 5 standard deviations).
        Assert.InRange(values.Average(), probability - 0.03, probability + 0.03);
    }

    [Fact]
    public void TheRefinementNamesListBrecqAndQatAndParse()
    {
        Assert.Equal(["none", "adaround", "brecq", "qat"], QuantizationOptions.RefinementNames);
        Assert.Equal(RefinementMethod.Brecq, QuantizationOptions.ParseRefine("BRECQ"));
    }

    [Fact]
    public void CancellationStopsBlockReconstructionBetweenSteps()
    {
        using var cts = new CancellationTokenSource();
        var progress = new AdaRoundRefinerTests.CancelOnFirst(cts);
        var options = s_w4a4 with { Refine = RefinementMethod.Brecq, RefineIterations = 1000 };

        Assert.ThrowsAny<OperationCanceledException>(() => ModelQuantizer.Quantize(OnnxModel.Load(RepoPaths.Model("tiny_cnn.onnx")),
            TestData.Real, options, null, cts.Token, progress));
        Assert.Equal(1, progress.Reports);
        Assert.Equal("block", progress.Unit);
    }
}
