using Dsg.Core.Onnx;
using Dsg.Core.Quantization;
using Dsg.Core.Quantization.Refinement;
using Dsg.Core.Runtime;
using Dsg.Tests.Shared;
using TorchSharp;

namespace Dsg.Core.Tests.Quantization.Refinement;

public sealed class QatRefinerTests
{
    private static readonly QuantizationOptions s_w4a4 = QuantizationOptions.FromPrecision("W4A4") with { Recipe = QuantizationRecipe.Paper };

    private static readonly Lazy<QuantizationResult> s_tiny = new(() => Refined("tiny_cnn.onnx", 150));

    private static readonly Lazy<QuantizationResult> s_resnet = new(() => Refined("resnet_fmnist.onnx", 60));

    private static QuantizationResult Refined(string asset, int iterations, QuantizationOptions? options = null) => ModelQuantizer.Quantize(
        OnnxModel.Load(RepoPaths.Model(asset)), TestData.Real, (options ?? s_w4a4) with { Refine = RefinementMethod.Qat, RefineIterations = iterations });

    [Fact]
    public void MomentsAreEachChannelsMeanAndStandardDeviationOverTheBatchAndSpace()
    {
        // [2 samples, 2 channels, 1, 2]: channel 0 holds 1, 3, 5, 7; channel 1 holds 2, 2, 2, 2.
        using var x = torch.tensor(new float[] { 1, 3, 2, 2, 5, 7, 2, 2 }, [2, 2, 1, 2]);
        var (mean, std) = QatRefiner.Moments(x);
        using (mean)
        using (std)
        {
            Assert.Equal([4f, 2f], mean.data<float>().ToArray());
            Assert.Equal(Math.Sqrt(5 + 1e-6), std.data<float>()[0], 5);
            Assert.Equal(1e-3, std.data<float>()[1], 5);
            using var targetMean = torch.tensor(new float[] { 3, 2 });
            using var targetStd = torch.tensor(new float[] { 1, 0.001f });
            using var distance = QatRefiner.StatisticsDistance((mean, std), (targetMean, targetStd));
            // ((4 − 3)² + 0) / 2 + ((√5 − 1)² + 0) / 2
            Assert.Equal((1 + Math.Pow(Math.Sqrt(5) - 1, 2)) / 2, distance.item<float>(), 4);
        }
    }

    [Theory]
    [InlineData(new long[] { 1, 28, 28 }, true)]
    [InlineData(new long[] { 3, 8, 8 }, true)]
    [InlineData(new long[] { 3, 7, 224 }, false)]
    [InlineData(new long[] { 784 }, false)]
    [InlineData(new long[] { 1, 1, 28, 28 }, false)]
    public void OnlyImagesOfAtLeastEightByEightAreShiftedAndFlipped(long[] sampleShape, bool augmentable) =>
        Assert.Equal(augmentable, new AdaRoundSettings().Augments(sampleShape));

    [Fact]
    public void EachAugmentedImageIsTheImageShiftedByAtMostAnEighthWithReflectedBordersAndPerhapsFlipped()
    {
        const int n = 16, size = 16, p = size / 8;
        var values = Enumerable.Range(0, n * 2 * size * size).Select(i => (float)i).ToArray();
        using var x = torch.tensor(values, [n, 2, size, size]);
        using var augmented = QatRefiner.Augment(x, new Random(3));
        Assert.Equal(x.shape, augmented.shape);
        var seen = new HashSet<(int, int, bool)>();
        for (int i = 0; i < n; i++)
        {
            var found = Transforms(p).Where(t => Matches(x, augmented, i, t, size)).ToList();
            Assert.True(found.Count == 1, $"image {i}: {found.Count} shifts and flips of the original match it");
            seen.Add(found[0]);
        }

        Assert.True(seen.Count > 4, $"{n} images took only {seen.Count} different shifts and flips");
        Assert.Contains(seen, t => t.Item3);
        Assert.Contains(seen, t => !t.Item3);
    }

    private static IEnumerable<(int Dy, int Dx, bool Flip)> Transforms(int p) =>
        from dy in Enumerable.Range(-p, 2 * p + 1) from dx in Enumerable.Range(-p, 2 * p + 1) from flip in new[] { false, true } select (dy, dx, flip);

    /// <summary>Whether image <paramref name="i"/> of <paramref name="augmented"/> is image i of x read at (r + dy, c + dx), reflected at the border, then flipped if asked.</summary>
    private static bool Matches(torch.Tensor x, torch.Tensor augmented, int i, (int Dy, int Dx, bool Flip) t, int size)
    {
        static int Reflect(int k, int size) => k < 0 ? -k : k >= size ? 2 * (size - 1) - k : k;
        var original = x[i].data<float>().ToArray();
        var image = augmented[i].data<float>().ToArray();
        for (int ch = 0; ch < 2; ch++)
        {
            for (int r = 0; r < size; r++)
            {
                for (int c = 0; c < size; c++)
                {
                    int source = t.Flip ? size - 1 - c : c;
                    float expected = original[(ch * size * size) + (Reflect(r + t.Dy, size) * size) + Reflect(source + t.Dx, size)];
                    if (image[(ch * size * size) + (r * size) + c] != expected)
                    {
                        return false;
                    }
                }
            }
        }

        return true;
    }

    [Fact]
    public void WithoutAugmentationOrWithTheStatisticsTermTheFineTuningLearnsSomethingElse()
    {
        var plain = s_tiny.Value.Refinement.Weights;
        foreach (var options in new[] { s_w4a4 with { RefineAugment = false }, s_w4a4 with { RefineStatisticsWeight = 1 } })
        {
            var other = Refined("tiny_cnn.onnx", 150, options);
            BrecqRefinerTests.LearnsAndWrites(other);
            Assert.Contains(plain.Keys, k => !plain[k].Values.SequenceEqual(other.Refinement.Weights[k].Values));
        }
    }

    [Fact]
    public void TheWholeGraphIsOneBlockFromItsInputToItsOutputs()
    {
        var (folded, _) = BatchNormFolder.Fold(OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx")));
        var plan = QuantizationPlanner.Plan(folded, s_w4a4);
        var weighted = plan.Weights.Select(w => w.Node).ToHashSet(StringComparer.Ordinal);

        var block = BlockPartition.Whole(folded, weighted);

        Assert.Equal(folded.Graph.Input[0].Name, block.Input);
        Assert.Equal(folded.Graph.Output.Select(o => o.Name), block.Outputs);
        Assert.Equal(BlockPartition.Find(folded, weighted).SelectMany(b => b.Nodes).Select(n => n.Name), block.Nodes.Select(n => n.Name));
        Assert.Equal(plan.Weights.Select(w => w.Node).Distinct(), block.WeightNodes);
    }

    [Fact]
    public void FineTuningBringsTheTinyModelCloserToFp32AndWritesTheLearnedIntegersAndStepSizes()
    {
        var result = s_tiny.Value;
        var layer = result.Refinement.Layers[0];
        Assert.True(layer.LearnedError < 0.9 * layer.NearestError, $"distillation loss {layer.LearnedError:G4} vs {layer.NearestError:G4} with nearest rounding");
        BrecqRefinerTests.LearnsAndWrites(result);
    }

    [Fact]
    public void TheLearnedBiasesAreWhatTheWrittenModelStoresAndSomeMoved()
    {
        var result = s_tiny.Value;
        var learned = Assert.IsAssignableFrom<IReadOnlyDictionary<string, float[]>>(result.Refinement.Biases);
        var (folded, _) = BatchNormFolder.Fold(OnnxModel.Load(RepoPaths.Model("tiny_cnn.onnx")));
        var foldedBiases = folded.Graph.Initializer.ToDictionary(t => t.Name, t => OnnxTensor.ToFloats(t, folded), StringComparer.Ordinal);
        // Every bias the plan stores as int32 next to a learned weight is learned.
        Assert.Equal(result.Plan.Biases.Select(b => b.Initializer).Distinct().Order(), learned.Keys.Order());
        int moved = 0;
        foreach (var site in result.Plan.Biases)
        {
            var node = result.Model.Graph.Node.Single(n => n.Name == site.Node);
            var stored = AdaRoundRefinerTests.StoredBias(result.Model, node.Input[site.InputIndex]);
            var scales = StoredScales(result.Model, node.Input[site.InputIndex]);
            for (int c = 0; c < stored.Length; c++)
            {
                // int32 storage: within half a step of the learned value.
                Assert.True(Math.Abs(stored[c] - learned[site.Initializer][c]) <= (0.5 * scales[c]) + 1e-7,
                    $"{site.Initializer}[{c}]: stored {stored[c]}, learned {learned[site.Initializer][c]}");
                moved += Math.Abs(learned[site.Initializer][c] - foldedBiases[site.Initializer][c]) > scales[c] ? 1 : 0;
            }
        }

        Assert.True(moved > 0, "no learned bias moved by more than its storage step from the folded one");
    }

    private static float[] StoredScales(OnnxModel model, string dequantized)
    {
        var node = model.Graph.Node.Single(n => n.OpType == "DequantizeLinear" && n.Output[0] == dequantized);
        return OnnxTensor.ToFloats(model.Graph.Initializer.Single(t => t.Name == node.Input[1]), model);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void FineTuningBringsTheResNetCloserToFp32() =>
        Assert.All(s_resnet.Value.Refinement.Layers, l => Assert.True(l.LearnedError < l.NearestError, $"{l.LearnedError:G4} vs {l.NearestError:G4}"));

    [Fact]
    public void OnnxRuntimeRunsTheFineTunedTinyModelAsTheFakeQuantModelComputesIt() =>
        BrecqRefinerTests.OnnxRuntimeRunsTheLearnedBlocks("tiny_cnn.onnx", s_tiny.Value, whole: true);

    [Fact]
    [Trait("Category", "Slow")]
    public void OnnxRuntimeRunsTheFineTunedResNetAsTheFakeQuantModelComputesIt() =>
        BrecqRefinerTests.OnnxRuntimeRunsTheLearnedBlocks("resnet_fmnist.onnx", s_resnet.Value, whole: true);

    [Fact]
    public void AQuantizedConvTransposeItCannotLearnKeepsItsNearestRoundingWhileTheLayersAroundItAreFineTuned()
    {
        var random = new Random(3);
        var b = new Dsg.Core.Tests.Graph.OnnxGraphBuilder().Input("x", null, 1, 28, 28).Output("y", null, 10);
        b.Node("Conv", ["x", b.RandomWeight("w1", random, 0.5, 8, 1, 3, 3), b.RandomWeight("b1", random, 0.1, 8)], ["c1"],
            Dsg.Core.Tests.Graph.OnnxGraphBuilder.Ints("strides", 2, 2), Dsg.Core.Tests.Graph.OnnxGraphBuilder.Ints("pads", 1, 1, 1, 1));
        b.Node("Relu", ["c1"], ["r1"]);
        b.Node("ConvTranspose", ["r1", b.RandomWeight("w2", random, 0.5, 8, 8, 2, 2), b.RandomWeight("b2", random, 0.1, 8)], ["t"],
            Dsg.Core.Tests.Graph.OnnxGraphBuilder.Ints("strides", 2, 2));
        b.Node("Relu", ["t"], ["r2"]);
        b.Node("GlobalAveragePool", ["r2"], ["p"]);
        b.Node("Flatten", ["p"], ["f"]);
        b.Node("Gemm", ["f", b.RandomWeight("w3", random, 0.5, 10, 8), b.RandomWeight("b3", random, 0.1, 10)], ["y"], Dsg.Core.Tests.Graph.OnnxGraphBuilder.Int("transB", 1));
        var options = s_w4a4 with { Refine = RefinementMethod.Qat, RefineIterations = 60 };

        var result = ModelQuantizer.Quantize(b.Build(), TestData.Real, options);

        // The plan quantizes the ConvTranspose's weight; fine-tuning does not learn it, and the written model holds its nearest rounding.
        var site = Assert.Single(result.Plan.Weights, w => w.Initializer == "w2");
        Assert.DoesNotContain("w2", result.Refinement.Weights.Keys);
        var written = result.Qdq.Weights.Single(w => w.Site.Initializer == "w2");
        var nearest = WeightQuantizer.Quantize(OnnxTensor.ToFloats(result.Folded.Initializers["w2"], result.Folded), [8, 8, 2, 2], site.Axis,
            options.WeightGridBits(site.Bits), options.EffectiveWeightRange);
        Assert.Equal(nearest.Values.Select(q => (float)q), OnnxTensor.ToFloats(result.Model.Graph.Initializer.Single(t => t.Name == written.QuantizedName), result.Model));
        // The weights it can learn moved and brought the student closer to the fp32 model (ONNX Runtime's outputs).
        Assert.Contains(result.Refinement.Layers, l => l.Changed > 0);
        var layer = result.Refinement.Layers[0];
        Assert.True(layer.LearnedError < layer.NearestError, $"distillation loss {layer.LearnedError:G4} vs {layer.NearestError:G4} with nearest rounding");
    }

    [Fact]
    public void AGraphWithTwoInputsIsRefusedForFineTuningToo()
    {
        var model = OnnxModel.FromProto(new Dsg.Core.Onnx.Proto.ModelProto { Graph = new Dsg.Core.Onnx.Proto.GraphProto() });
        model.Graph.Input.Add(new Dsg.Core.Onnx.Proto.ValueInfoProto { Name = "a" });
        model.Graph.Input.Add(new Dsg.Core.Onnx.Proto.ValueInfoProto { Name = "b" });

        var e = Assert.Throws<DsgException>(() => BlockPartition.Whole(model, new HashSet<string>()));
        Assert.Equal(ErrorCodes.RefinementUnsupported, e.Code);
    }
}
