using Dsg.Core.Evaluation;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using Dsg.Core.Quantization;
using Dsg.Core.Quantization.Qdq;
using Dsg.Core.Runtime;
using Dsg.Tests.Shared;
using Microsoft.ML.OnnxRuntime;

namespace Dsg.Core.Tests.Quantization;

public sealed class QdqWriterTests
{
    private static readonly Lazy<OnnxModel> s_resnet = new(() => OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx")));

    private static readonly Lazy<QuantizationResult> s_w8a8 = new(() => Quantize("W8A8", s_resnet.Value));

    private static QuantizationResult Quantize(string precision, OnnxModel? model = null) =>
        precision == "W8A8" && model is null
            ? s_w8a8.Value
            : ModelQuantizer.Quantize(model ?? s_resnet.Value, TestData.Real, QuantizationOptions.FromPrecision(precision));

    [Fact]
    public void EightBitModelIsFusedIntoIntegerKernelsByOnnxRuntime()
    {
        var result = Quantize("W8A8");
        var dir = Directory.CreateTempSubdirectory("dsg-fusion-").FullName;
        try
        {
            string optimized = Path.Combine(dir, "optimized.onnx");
            using (new OnnxRuntimeRunner(result.Model, 1, optimized, GraphOptimizationLevel.ORT_ENABLE_EXTENDED))
            {
            }

            var ops = ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimized)).Graph.Node.Select(n => n.OpType).ToList();
            Assert.True(ops.Contains("QLinearConv") || ops.Contains("ConvInteger"),
                "ONNX Runtime did not fuse any Conv: " + string.Join(", ", ops.Distinct()));
            Assert.True(ops.Count(o => o == "QLinearConv") >= 8, $"{ops.Count(o => o == "QLinearConv")} QLinearConv of 9 Conv");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void EightBitWeightsDefaultToTheSevenBitRangeInInt8SoFusedKernelsMatchTheUnfusedGraph()
    {
        var result = Quantize("W8A8");
        Assert.Equal(EightBitWeightStorage.Reduced, QuantizationOptions.FromPrecision("W8A8").EightBitWeights);
        foreach (var (_, values) in StoredEightBitWeights(result, TensorProto.Types.DataType.Int8))
        {
            Assert.All(values, v => Assert.InRange(v, -63, 63));
            Assert.Contains(values, v => Math.Abs(v) == 63);
        }

        AssertFusedMatchesUnfused(result);
    }

    [Fact]
    public void FullEightBitWeightsAreStoredAsUint8WithZeroPoint128SoFusedKernelsMatchTheUnfusedGraph()
    {
        var result = ModelQuantizer.Quantize(s_resnet.Value, TestData.Real,
            QuantizationOptions.FromPrecision("W8A8") with { EightBitWeights = EightBitWeightStorage.Full });
        foreach (var (weight, values) in StoredEightBitWeights(result, TensorProto.Types.DataType.Uint8))
        {
            Assert.All(values, v => Assert.InRange(v, 1, 255));
            Assert.Equal(weight.Weight.Values.Select(v => (long)v + QdqWriter.Uint8WeightOffset), values);
        }

        AssertFusedMatchesUnfused(result);
    }

    /// <summary>The weights planned at 8 bits with their stored integers; asserts there are some and their element type.</summary>
    private static List<(WeightQuantization Weight, long[] Values)> StoredEightBitWeights(QuantizationResult result, TensorProto.Types.DataType type)
    {
        var init = result.Model.Graph.Initializer.ToDictionary(t => t.Name);
        var stored = result.Qdq.Weights.Where(w => w.Site.Bits == 8).Select(w => (w, init[w.QuantizedName])).ToList();
        Assert.NotEmpty(stored);
        Assert.All(stored, s => Assert.Equal((int)type, s.Item2.DataType));
        return stored.Select(s => (s.w, OnnxTensor.ToInt64s(s.Item2))).ToList();
    }

    /// <summary>
    /// ORT's fused integer kernels must compute what the QDQ graph says. With full-range int8 weights its U8S8 kernels on
    /// x86 without VNNI saturate int16 pair sums: measured here, the logits then drift by up to 4.8 (largest logit 15.8);
    /// with either storage above the two agree to about 0.03.
    /// </summary>
    private static void AssertFusedMatchesUnfused(QuantizationResult result)
    {
        using var fused = new OnnxRuntimeRunner(result.Model, 1, null, GraphOptimizationLevel.ORT_ENABLE_ALL);
        using var reference = new OnnxRuntimeRunner(result.Model, 1, null, GraphOptimizationLevel.ORT_DISABLE_ALL);
        var a = ModelEvaluator.Predict(fused, TestData.Real);
        var b = ModelEvaluator.Predict(reference, TestData.Real);
        double scale = b.Max(Math.Abs);
        double worst = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
        Assert.True(worst <= 0.02 * scale, $"fused vs unfused logits differ by {worst} (largest logit {scale})");
        Assert.Equal(ModelEvaluator.TopOne(b, 10), ModelEvaluator.TopOne(a, 10));
    }

    [Fact]
    public void BiasScaleIsInputScaleTimesWeightScalePerChannel()
    {
        var result = Quantize("W8A8");
        var model = result.Model;
        var graph = model.Graph;
        var init = graph.Initializer.ToDictionary(t => t.Name);
        var producers = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        int checkedBiases = 0;
        foreach (var conv in graph.Node.Where(n => n.OpType is "Conv" or "Gemm" && n.Input.Count > 2))
        {
            var biasDq = producers[conv.Input[2]];
            var inputDq = producers[conv.Input[0]];
            var weightDq = producers[conv.Input[1]];
            Assert.All(new[] { biasDq, inputDq, weightDq }, n => Assert.Equal("DequantizeLinear", n.OpType));
            var biasScale = OnnxTensor.ToFloats(init[biasDq.Input[1]]);
            float inputScale = OnnxTensor.ToFloats(init[inputDq.Input[1]])[0];
            var weightScale = OnnxTensor.ToFloats(init[weightDq.Input[1]]);
            Assert.Equal((int)TensorProto.Types.DataType.Int32, init[biasDq.Input[0]].DataType);
            Assert.Equal(weightScale.Length, biasScale.Length);
            for (int c = 0; c < biasScale.Length; c++)
            {
                Assert.Equal(inputScale * weightScale[c], biasScale[c]);
            }

            // The int32 values reproduce the folded float bias to within half a step.
            var site = result.Plan.Biases.Single(b => b.Node == conv.Name);
            var floatBias = OnnxTensor.ToFloats(result.Folded.Initializers[site.Initializer]);
            var ints = OnnxTensor.ToInt64s(init[biasDq.Input[0]]);
            for (int c = 0; c < ints.Length; c++)
            {
                Assert.True(Math.Abs(ints[c] * (double)biasScale[c] - floatBias[c]) <= biasScale[c] * 0.5 + 1e-12);
            }

            checkedBiases++;
        }

        Assert.Equal(result.Qdq.Int32Biases, checkedBiases);
        Assert.True(checkedBiases >= 9, $"only {checkedBiases} int32 biases");
    }

    [Theory]
    [InlineData("W6A6")]
    [InlineData("W4A8")]
    [InlineData("W4A4")]
    [InlineData("W3A5")]
    public void SubEightBitModelsOnlyHoldInRangeIntegers(string precision)
    {
        var options = QuantizationOptions.FromPrecision(precision) with { Recipe = QuantizationRecipe.Paper, EightBitInput = false };
        var result = ModelQuantizer.Quantize(s_resnet.Value, TestData.Real, options);

        // Weights: every stored integer lies on the symmetric b-bit grid, and the grid's edge is reached.
        var init = result.Model.Graph.Initializer.ToDictionary(t => t.Name);
        foreach (var weight in result.Qdq.Weights)
        {
            var values = OnnxTensor.ToInt64s(init[weight.QuantizedName]);
            int max = (1 << (weight.Site.Bits - 1)) - 1;
            Assert.Equal(options.WeightBits, weight.Site.Bits);
            Assert.All(values, v => Assert.InRange(v, -max, max));
            Assert.Contains(values, v => Math.Abs(v) == max);
        }

        // Activations: run the model with every QuantizeLinear output exposed and read them back.
        var names = result.Qdq.Activations.Select(a => a.QuantizedName).ToList();
        var exposed = OnnxRuntimeRunner.WithOutputs(result.Model, names, TensorProto.Types.DataType.Uint8);
        using var runner = new OnnxRuntimeRunner(exposed);
        var noise = TestData.Noise(16, 5);
        foreach (var data in new[] { TestData.Real, noise })
        {
            var outputs = runner.Run(data.ToArray(), data.Shape, names).ToDictionary(o => o.Name);
            foreach (var a in result.Qdq.Activations)
            {
                var grid = a.Calibration.Params.Grid;
                Assert.Equal(options.ActivationBits, grid.Bits);
                Assert.True(a.Clipped || grid.Bits == 8);
                var q = (byte[])outputs[a.QuantizedName].Data;
                Assert.All(q, v => Assert.InRange(v, grid.QMin, grid.QMax));
            }

            // Noise drives activations past the calibrated ranges: the top of the grid must be hit (and not exceeded).
            if (ReferenceEquals(data, noise))
            {
                Assert.Contains(result.Qdq.Activations, a => ((byte[])outputs[a.QuantizedName].Data).Contains((byte)a.Calibration.Params.Grid.QMax));
            }
        }
    }

    [Theory]
    [InlineData("W8A8", 0.95)]
    [InlineData("W6A6", 0.85)]
    [InlineData("W4A8", 0.80)]
    [InlineData("W4A4", 0.70)]
    public void EveryPresetLoadsAndRunsInOnnxRuntimeAndAgreesWithFp32(string precision, double minimumAgreement)
    {
        var result = Quantize(precision);
        var report = ModelEvaluator.Compare(s_resnet.Value, result.Model, TestData.Real, new EvaluationOptions { MeasureLatency = false });
        Assert.Equal(64, report.Samples);
        Assert.True(report.Agreement >= minimumAgreement, $"{precision}: agreement {report.Agreement:F3}");
        Assert.True(double.IsFinite(report.OutputSqnrDb) && report.OutputSqnrDb > 0);
    }

    [Fact]
    public void WrittenModelKeepsInputsOutputsDynamicBatchAndMetadata()
    {
        var original = s_resnet.Value.Clone();
        original.Proto.MetadataProps.Add(new StringStringEntryProto { Key = "author", Value = "tests" });
        var result = Quantize("W4A8", original);
        var graph = result.Model.Graph;
        Assert.Equal(original.Graph.Input.Select(i => i.ToString()), graph.Input.Select(i => i.ToString()));
        Assert.Equal(original.Graph.Output.Select(i => i.ToString()), graph.Output.Select(i => i.ToString()));
        Assert.Equal("batch", graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
        var metadata = result.Model.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("tests", metadata["author"]);
        Assert.Equal(QuantizationMetadata.DsgVersion, metadata[QuantizationMetadata.VersionKey]);
        Assert.Contains("\"precision\":\"W4A8\"", metadata[QuantizationMetadata.OptionsKey]);
        Assert.DoesNotContain(graph.Node, n => n.OpType == "BatchNormalization");

        // Runs at batch 1 and 3.
        using var runner = new OnnxRuntimeRunner(result.Model);
        foreach (int n in new[] { 1, 3 })
        {
            var batch = TestData.Real.Slice(0, n);
            Assert.Equal(n * 10, runner.RunFirstOutput(batch.ToArray(), batch.Shape).Length);
        }
    }

    [Fact]
    public void ModelInputIsQuantizedAtEightBitsUnlessTheTargetWidthIsAskedFor()
    {
        var paper = QuantizationOptions.FromPrecision("W4A4") with { Recipe = QuantizationRecipe.Paper };
        string input = s_resnet.Value.Graph.Input[0].Name;
        var byDefault = ModelQuantizer.Quantize(s_resnet.Value, TestData.Real, paper);
        var target = ModelQuantizer.Quantize(s_resnet.Value, TestData.Real, paper with { EightBitInput = false });

        Assert.Equal(8, byDefault.Plan.Activations.Single(a => a.Tensor == input).Bits);
        Assert.All(byDefault.Plan.Activations.Where(a => a.Tensor != input), a => Assert.Equal(4, a.Bits));
        Assert.Equal(4, target.Plan.Activations.Single(a => a.Tensor == input).Bits);
        Assert.Contains("\"eightBitInput\":false", target.Model.Proto.MetadataProps.Single(p => p.Key == QuantizationMetadata.OptionsKey).Value);
    }

    [Fact]
    public void FirstAndLastLayersStayAtEightBitsUnlessEveryLayerIsAskedFor()
    {
        var byDefault = Quantize("W4A4");
        var first = byDefault.Qdq.Weights.Single(w => w.Site.Position == "first");
        var last = byDefault.Qdq.Weights.Single(w => w.Site.Position == "last");
        Assert.Equal((8, 8), (first.Site.Bits, last.Site.Bits));
        Assert.Equal("Gemm", last.Site.OpType);
        Assert.All(byDefault.Qdq.Weights.Where(w => w.Site.Position == ""), w => Assert.Equal(4, w.Site.Bits));
        Assert.Equal(8, byDefault.Activations.Single(a => a.Site.Tensor == "input").Site.Bits);

        var every = ModelQuantizer.Quantize(s_resnet.Value, TestData.Real,
            QuantizationOptions.FromPrecision("W4A4") with { EightBitFirstLastLayer = false, EightBitInput = false });
        Assert.All(every.Qdq.Weights, w => Assert.Equal(4, w.Site.Bits));
        Assert.All(every.Activations, a => Assert.Equal(4, a.Site.Bits));
    }
}
