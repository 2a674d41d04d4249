using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using Dsg.Core.Quantization;
using Dsg.Core.Quantization.Qdq;
using Dsg.Core.Quantization.Refinement;
using Dsg.Core.Runtime;
using Dsg.Tests.Shared;
using TorchSharp;

namespace Dsg.Core.Tests.Quantization.Refinement;

public sealed class AdaRoundRefinerTests
{
    private static readonly QuantizationOptions s_w4a4 = QuantizationOptions.FromPrecision("W4A4") with { Recipe = QuantizationRecipe.Paper };

    private static readonly Lazy<QuantizationResult> s_tiny = new(() => Refined("tiny_cnn.onnx", 300));

    private static readonly Lazy<QuantizationResult> s_resnet = new(() => Refined("resnet_fmnist.onnx", 100));

    private static QuantizationResult Refined(string asset, int iterations) => ModelQuantizer.Quantize(
        OnnxModel.Load(RepoPaths.Model(asset)), TestData.Real, s_w4a4 with { Refine = RefinementMethod.AdaRound, RefineIterations = iterations });

    [Fact]
    public void AdaRoundLowersAResNetLayersReconstructionErrorBelowNearestRounding() => LowersTheReconstructionError("resnet_fmnist.onnx", 1);

    /// <summary>MobileNetV2's third weight layer, a depthwise convolution (slow on a CPU: its backward pass dominates).</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void AdaRoundLowersAMobileNetLayersReconstructionErrorBelowNearestRounding() => LowersTheReconstructionError("mobilenetv2_fmnist.onnx", 2);

    private static void LowersTheReconstructionError(string asset, int layerIndex)
    {
        var (folded, _) = BatchNormFolder.Fold(OnnxModel.Load(RepoPaths.Model(asset)));
        var plan = QuantizationPlanner.Plan(folded, s_w4a4);
        var activations = Calibrator.Calibrate(folded, plan, TestData.Real, s_w4a4);
        var site = plan.Weights[layerIndex];
        var node = folded.Graph.Node.Single(n => n.Name == site.Node);
        var layer = WeightedLayer.For(node, new GraphIndex(folded.Graph), folded)!;
        var nearest = WeightQuantizer.Quantize(layer.Weight, layer.Dims, site.Axis, 4, s_w4a4.EffectiveWeightRange);
        var quantized = QdqWriter.Write(folded, plan, activations, s_w4a4).Model;
        string input = quantized.Graph.Node.Single(n => n.Name == site.Node).Input[0];
        using var inputs = AdaRoundRefiner.Collect(quantized, input, TestData.Real, s_w4a4, default);
        using var targets = AdaRoundRefiner.Collect(folded, node.Output[0], TestData.Real, s_w4a4, default);

        var (weight, nearestError, learnedError) = LayerReconstruction.Run(layer, nearest, inputs, targets,
            new AdaRoundSettings { Iterations = 300 }, null, default);

        Assert.True(learnedError < 0.9 * nearestError, $"{site.Node}: learned {learnedError:G4} vs nearest {nearestError:G4}");
        Assert.Equal(nearest.Scales, weight.Scales);
        Assert.All(weight.Values, q => Assert.InRange(q, -7, 7));
        // Every learned integer is the floor or the ceiling of W/s (clamped to the grid): AdaRound only chooses the direction.
        var (_, channels, inner) = WeightQuantizer.Split(layer.Dims, site.Axis);
        for (int i = 0; i < weight.Values.Length; i++)
        {
            double ratio = layer.Weight[i] / weight.Scales[(int)(i / inner % channels)];
            Assert.InRange(weight.Values[i], Math.Max(-7, Math.Floor(ratio)), Math.Min(7, Math.Ceiling(ratio)));
        }

        Assert.Contains(weight.Values.Zip(nearest.Values), p => p.First != p.Second);
    }

    [Fact]
    public void TheWrittenModelStoresTheLearnedIntegersWithTheNearestRoundingsScales() => WrittenWeightsAreTheLearnedOnes(s_tiny.Value);

    [Fact]
    [Trait("Category", "Slow")]
    public void TheWrittenResNetStoresTheLearnedIntegersWithTheNearestRoundingsScales() => WrittenWeightsAreTheLearnedOnes(s_resnet.Value);

    [Fact]
    public void OnnxRuntimeRunsEachLearnedLayerAsTheFakeQuantLayerComputesIt() => OnnxRuntimeRunsTheLearnedLayers(s_tiny.Value);

    [Fact]
    [Trait("Category", "Slow")]
    public void OnnxRuntimeRunsEachLearnedResNetLayerAsTheFakeQuantLayerComputesIt() => OnnxRuntimeRunsTheLearnedLayers(s_resnet.Value);

    private static void WrittenWeightsAreTheLearnedOnes(QuantizationResult result)
    {
        var initializers = result.Model.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        Assert.Equal(result.Plan.Weights.Select(w => w.Initializer).Distinct().Count(), result.Refinement.Weights.Count);
        int changed = 0;
        foreach (var written in result.Qdq.Weights)
        {
            var learned = result.Refinement.Weights[written.Site.Initializer];
            var nearest = WeightQuantizer.Quantize(OnnxTensor.ToFloats(result.Folded.Initializers[written.Site.Initializer], result.Folded),
                learned.Dims, learned.Axis, 4, s_w4a4.EffectiveWeightRange);
            var dequantize = result.Model.Graph.Node.Single(n => n.OpType == "DequantizeLinear" && n.Input[0] == written.QuantizedName);
            var stored = OnnxTensor.ToFloats(initializers[written.QuantizedName], result.Model);
            var scales = OnnxTensor.ToFloats(initializers[dequantize.Input[1]], result.Model);

            Assert.Equal(nearest.Scales, scales);
            Assert.Equal(learned.Values.Select(q => (float)q), stored);
            // Dequantized as ONNX Runtime does (integer × its channel's scale), the stored weight is the learned fake-quant weight.
            var (_, channels, inner) = WeightQuantizer.Split(learned.Dims, learned.Axis);
            var dequantized = stored.Select((q, i) => q * scales[(int)(i / inner % channels)]).ToArray();
            Assert.Equal(learned.Dequantize(), dequantized);
            changed += learned.Values.Zip(nearest.Values).Count(p => p.First != p.Second);
        }

        Assert.True(changed > 0, "AdaRound changed no integer, so this test would not see a writer that ignores it.");
        Assert.All(result.Refinement.Layers, l => Assert.True(l.LearnedError <= l.NearestError * 1.05, $"{l.Node}: {l.LearnedError} vs {l.NearestError}"));
    }

    private static void OnnxRuntimeRunsTheLearnedLayers(QuantizationResult result)
    {
        var folded = result.Folded;
        var index = new GraphIndex(folded.Graph);
        foreach (var site in result.Plan.Weights)
        {
            var written = result.Model.Graph.Node.Single(n => n.Name == site.Node);
            string input = written.Input[0], output = written.Output[0];
            using var runner = new OnnxRuntimeRunner(OnnxRuntimeRunner.WithOutputs(result.Model, [input, output]));
            var ort = runner.Run(TestData.Real.Values(0, 16), TestData.Real.BatchShape(16), [input, output]);
            var layer = WeightedLayer.For(folded.Graph.Node.Single(n => n.Name == site.Node), index, folded)!;
            var learned = result.Refinement.Weights[site.Initializer];

            // The bias as the written model stores it (int32 × input scale × weight scale), which ONNX Runtime adds.
            var bias = written.Input.Count > 2 ? StoredBias(result.Model, written.Input[2]) : null;
            Assert.Equal(layer.Bias is null, bias is null);

            using var scope = torch.NewDisposeScope();
            var x = torch.tensor(ort[0].Floats, ort[0].Shape);
            var y = layer.Apply(x, torch.tensor(learned.Dequantize(), learned.Dims), bias is null ? null : torch.tensor(bias));
            var expected = y.data<float>().ToArray();
            var actual = ort[1].Floats;
            double scale = expected.Max(v => Math.Abs(v));
            double worst = expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second));
            Assert.True(worst <= 1e-4 * scale, $"{site.Node}: ONNX Runtime differs from the fake-quant layer by {worst:G3} (outputs up to {scale:G3})");
        }
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void RefinementBringsTheWrittenResNetsLogitsCloserToFp32()
    {
        var refined = s_resnet.Value;
        var nearest = ModelQuantizer.Quantize(OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx")), TestData.Real, s_w4a4);
        using var fp32 = new OnnxRuntimeRunner(refined.Folded);
        using var a = new OnnxRuntimeRunner(refined.Model);
        using var b = new OnnxRuntimeRunner(nearest.Model);
        var batch = TestData.Real.Values(0, 64);
        var shape = TestData.Real.BatchShape(64);
        var reference = fp32.RunFirstOutput(batch, shape);
        double learnedError = Mse(reference, a.RunFirstOutput(batch, shape));
        double nearestError = Mse(reference, b.RunFirstOutput(batch, shape));

        Assert.True(learnedError < nearestError, $"logit MSE learned {learnedError:G4} vs nearest {nearestError:G4}");
    }

    [Fact]
    public void CancellationStopsRefinementBetweenSteps()
    {
        using var cts = new CancellationTokenSource();
        var progress = new CancelOnFirst(cts);
        var options = s_w4a4 with { Refine = RefinementMethod.AdaRound, RefineIterations = 1000 };

        Assert.ThrowsAny<OperationCanceledException>(() => ModelQuantizer.Quantize(OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx")),
            TestData.Real, options, null, cts.Token, progress));
        Assert.Equal(1, progress.Reports);
    }

    internal static float[] StoredBias(OnnxModel model, string name)
    {
        var dequantize = model.Graph.Node.Single(n => n.OpType == "DequantizeLinear" && n.Output[0] == name);
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var values = OnnxTensor.ToFloats(initializers[dequantize.Input[0]], model);
        var scales = OnnxTensor.ToFloats(initializers[dequantize.Input[1]], model);
        return values.Select((q, c) => q * scales[c]).ToArray();
    }

    private static double Mse(float[] a, float[] b) => a.Zip(b).Average(p => (double)(p.First - p.Second) * (p.First - p.Second));

    /// <summary>Cancels at the first progress report and counts the reports (the unit of the first one is kept).</summary>
    internal sealed class CancelOnFirst(CancellationTokenSource cts) : IProgress<RefinementProgress>
    {
        public int Reports { get; private set; }

        public string? Unit { get; private set; }

        public void Report(RefinementProgress value)
        {
            Reports++;
            Unit ??= value.Unit;
            cts.Cancel();
        }
    }
}
