using Dsg.Core.Onnx;
using Dsg.Core.Quantization;
using Dsg.Core.Quantization.Refinement;
using Dsg.Core.Runtime;
using Dsg.Tests.Shared;

namespace Dsg.Core.Tests.Quantization.Refinement;

public sealed class QatRefinerTests
{
    private static readonly QuantizationOptions s_w4a4 = QuantizationOptions.FromPrecision("W4A4") with { Recipe = QuantizationRecipe.Paper };

    private static readonly Lazy<QuantizationResult> s_tiny = new(() => Refined("tiny_cnn.onnx", 150));

    private static readonly Lazy<QuantizationResult> s_resnet = new(() => Refined("resnet_fmnist.onnx", 60));

    private static QuantizationResult Refined(string asset, int iterations) => ModelQuantizer.Quantize(
        OnnxModel.Load(RepoPaths.Model(asset)), TestData.Real, s_w4a4 with { Refine = RefinementMethod.Qat, RefineIterations = iterations });

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
    public void AGraphWithTwoInputsIsRefusedForFineTuningToo()
    {
        var model = OnnxModel.FromProto(new Dsg.Core.Onnx.Proto.ModelProto { Graph = new Dsg.Core.Onnx.Proto.GraphProto() });
        model.Graph.Input.Add(new Dsg.Core.Onnx.Proto.ValueInfoProto { Name = "a" });
        model.Graph.Input.Add(new Dsg.Core.Onnx.Proto.ValueInfoProto { Name = "b" });

        var e = Assert.Throws<DsgException>(() => BlockPartition.Whole(model, new HashSet<string>()));
        Assert.Equal(ErrorCodes.RefinementUnsupported, e.Code);
    }
}
