using Dsg.Core.Graph;
using Dsg.Core.Graph.Execution;
using Dsg.Core.Onnx;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Dsg.Core.Tests.Graph;

/// <summary>BatchNorm layers and the taps on their inputs.</summary>
public sealed class TorchGraphBatchNormTests
{
    [Fact]
    public void Layers_follow_execution_order_and_carry_the_initializer_statistics()
    {
        var model = TestModels.SmallCnn();
        using var graph = TorchGraph.Create(model);
        var bnNodes = model.Graph.Node.Where(n => n.OpType == "BatchNormalization").ToList();
        Assert.Equal(bnNodes.Count, graph.BatchNormLayers.Count);
        for (int i = 0; i < bnNodes.Count; i++)
        {
            var layer = graph.BatchNormLayers[i];
            var node = bnNodes[i];
            Assert.Equal(i, layer.Index);
            Assert.Equal(node.Name, layer.NodeName);
            Assert.Equal(node.Input[0], layer.InputName);
            Assert.Equal(OnnxTensor.ToFloats(model.Initializers[node.Input[1]]), Values(layer.Scale));
            Assert.Equal(OnnxTensor.ToFloats(model.Initializers[node.Input[2]]), Values(layer.Bias));
            Assert.Equal(OnnxTensor.ToFloats(model.Initializers[node.Input[3]]), Values(layer.Mean));
            Assert.Equal(OnnxTensor.ToFloats(model.Initializers[node.Input[4]]), Values(layer.Variance));
            Assert.Equal(layer.Channels, layer.Scale.shape[0]);
            Assert.Equal(ScalarType.Float32, layer.Variance.dtype);
        }

        Assert.Equal(1e-5, graph.BatchNormLayers[0].Epsilon, 1e-9);
        Assert.Equal(1e-3, graph.BatchNormLayers[1].Epsilon, 1e-9);
    }

    [Fact]
    public void Captured_inputs_are_the_pre_batchnorm_activations()
    {
        var model = TestModels.SmallCnn();
        using var graph = TorchGraph.Create(model);
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(5, 1, 8, 8);
        var result = graph.Forward(x, ForwardCapture.BatchNormInputs);
        Assert.Equal(2, result.BatchNormInputs.Count);
        Assert.Equal([5L, 4, 8, 8], result.BatchNormInputs[0].shape);
        Assert.Equal([5L, 6, 4, 4], result.BatchNormInputs[1].shape);

        var w1 = torch.tensor(OnnxTensor.ToFloats(model.Initializers["w1"]), [4L, 1, 3, 3]);
        var b1 = torch.tensor(OnnxTensor.ToFloats(model.Initializers["b1"]), [4L]);
        Tensor expected;
        using (OneDnnConvolutionGuard.Enter(ConvolutionKernels.Native))
        {
            expected = F.conv2d(x, w1, b1, padding: [1L, 1]);
        }

        Assert.True(expected.allclose(result.BatchNormInputs[0], rtol: 1e-5, atol: 1e-6));

        var layer = graph.BatchNormLayers[0];
        var normalised = F.batch_norm(expected, layer.Mean, layer.Variance, layer.Scale, layer.Bias, false, 0.1, layer.Epsilon);
        Assert.True(normalised.allclose(F.batch_norm(result.BatchNormInputs[0], layer.Mean, layer.Variance, layer.Scale, layer.Bias, false, 0.1, layer.Epsilon)));
    }

    [Fact]
    public void Nothing_is_captured_unless_asked()
    {
        using var graph = TorchGraph.Create(TestModels.SmallCnn());
        using var scope = torch.NewDisposeScope();
        var result = graph.Forward(torch.randn(2, 1, 8, 8));
        Assert.Empty(result.BatchNormInputs);
        Assert.Null(result.Features);
        Assert.Single(result.Outputs);
        Assert.Equal([2L, 3], result.Outputs[0].shape);
    }

    [Fact]
    public void Features_are_the_flattened_input_of_the_last_gemm()
    {
        var model = TestModels.SmallCnn();
        using var graph = TorchGraph.Create(model);
        using var scope = torch.NewDisposeScope();
        var result = graph.Forward(torch.randn(3, 1, 8, 8), ForwardCapture.Features | ForwardCapture.BatchNormInputs);
        var features = Assert.IsType<Tensor>(result.Features);
        Assert.Equal([3L, 6], features.shape);
        var fcW = torch.tensor(OnnxTensor.ToFloats(model.Initializers["fc_w"]), [3L, 6]);
        var fcB = torch.tensor(OnnxTensor.ToFloats(model.Initializers["fc_b"]), [3L]);
        Assert.True(F.linear(features, fcW, fcB).allclose(result.Outputs[0], rtol: 1e-5, atol: 1e-6));
        Assert.Equal(2, result.BatchNormInputs.Count);
    }

    [Fact]
    public void Batchnorm_with_computed_statistics_runs_but_is_not_a_layer()
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", null, 2, 3, 3).Input("scale", 2).Input("bias", 2).Input("mean", 2).Input("var", 2).Output("y", null, 2, 3, 3);
        b.Node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["y"]);
        using var graph = TorchGraph.Create(b.Build());
        Assert.Empty(graph.BatchNormLayers);
    }

    private static float[] Values(Tensor t) => t.cpu().data<float>().ToArray();
}
