using Dsg.Core.Data;
using Dsg.Core.Graph;
using Dsg.Core.Onnx;
using Dsg.Tests.Shared;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Tests.Graph;

/// <summary>The executor on the trained test-asset models (testassets/models, made by eng/make-testassets.py).</summary>
public sealed class TorchGraphAssetTests
{
    public static TheoryData<string> Models => new() { "resnet_fmnist.onnx", "mobilenetv2_fmnist.onnx", "tiny_cnn.onnx" };

    [Theory]
    [MemberData(nameof(Models))]
    public void Logits_match_the_committed_pytorch_logits(string fileName)
    {
        using var graph = TorchGraph.Create(OnnxModel.Load(RepoPaths.Model(fileName)));
        var (images, shape) = NpyFile.ReadFloat32(RepoPaths.Data("fmnist_test_64.npy"));
        var (expected, expectedShape) = NpyFile.ReadFloat32(RepoPaths.Data(Path.GetFileNameWithoutExtension(fileName) + "_logits_64.npy"));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var logits = graph.Forward(torch.tensor(images, shape)).Outputs[0];
        Assert.Equal(expectedShape, logits.shape);
        var actual = logits.data<float>().ToArray();
        double max = actual.Zip(expected, (a, e) => (double)Math.Abs(a - e)).Max();
        Assert.InRange(max, 0, 1e-4);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Forward_and_backward_run_with_two_threads(string fileName)
    {
        int previous = torch.get_num_threads();
        torch.set_num_threads(2);
        try
        {
            using var graph = TorchGraph.Create(OnnxModel.Load(RepoPaths.Model(fileName)));
            using var scope = torch.NewDisposeScope();
            var x = torch.randn([16, .. graph.InputShape]).requires_grad_();
            var result = graph.Forward(x, ForwardCapture.BatchNormInputs | ForwardCapture.Features);
            var loss = result.Outputs[0].logsumexp(1).mean();
            foreach (var tap in result.BatchNormInputs)
            {
                loss = loss.Plus(tap.mean([0L, 2L, 3L]).square().mean());
            }

            TorchGraph.Backward(loss, result.Kernels);
            var gradient = x.grad!;
            Assert.True(gradient.isfinite().all().item<bool>());
            Assert.True(gradient.abs().sum().item<float>() > 0);
            Assert.Equal(16, result.Features!.shape[0]);
        }
        finally
        {
            torch.set_num_threads(previous);
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Every_batchnorm_node_is_a_layer_with_its_initializer_statistics(string fileName)
    {
        var model = OnnxModel.Load(RepoPaths.Model(fileName));
        using var graph = TorchGraph.Create(model);
        var nodes = model.Graph.Node.Where(n => n.OpType == "BatchNormalization").ToDictionary(n => n.Input[0]);
        Assert.NotEmpty(nodes);
        Assert.Equal(nodes.Count, graph.BatchNormLayers.Count);
        foreach (var layer in graph.BatchNormLayers)
        {
            var node = nodes[layer.InputName];
            Assert.Equal(OnnxTensor.ToFloats(model.Initializers[node.Input[1]], model), layer.Scale.cpu().data<float>().ToArray());
            Assert.Equal(OnnxTensor.ToFloats(model.Initializers[node.Input[3]], model), layer.Mean.cpu().data<float>().ToArray());
            Assert.Equal(OnnxTensor.ToFloats(model.Initializers[node.Input[4]], model), layer.Variance.cpu().data<float>().ToArray());
        }

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var result = graph.Forward(torch.randn([3, .. graph.InputShape]), ForwardCapture.BatchNormInputs);
        Assert.Equal(graph.BatchNormLayers.Count, result.BatchNormInputs.Count);
        for (int i = 0; i < result.BatchNormInputs.Count; i++)
        {
            var tap = result.BatchNormInputs[i];
            Assert.Equal(4, tap.ndim);
            Assert.Equal(3, tap.shape[0]);
            Assert.Equal(graph.BatchNormLayers[i].Channels, tap.shape[1]);
        }
    }
}
