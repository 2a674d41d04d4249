using Dsg.Core.Graph;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Tests.Graph;

/// <summary>The executor's gradient with respect to the input against central finite differences (float64).</summary>
public sealed class TorchGraphGradientTests
{
    [Fact]
    public void Gradient_of_logits_matches_finite_differences_on_an_in_memory_cnn() =>
        AssertGradientMatchesFiniteDifferences(TestModels.SmallCnn(TensorProto.Types.DataType.Double), ForwardCapture.None);

    [Fact]
    public void Gradient_through_batchnorm_taps_matches_finite_differences() =>
        AssertGradientMatchesFiniteDifferences(TestModels.SmallCnn(TensorProto.Types.DataType.Double), ForwardCapture.BatchNormInputs);

    [Fact]
    public void Gradient_matches_finite_differences_on_tiny_cnn_asset_in_float64() =>
        AssertGradientMatchesFiniteDifferences(TestModels.ToDouble(OnnxModel.Load(Dsg.Tests.Shared.RepoPaths.Model("tiny_cnn.onnx"))),
            ForwardCapture.BatchNormInputs);

    [Fact]
    public void Weights_stay_out_of_autograd()
    {
        using var graph = TorchGraph.Create(TestModels.SmallCnn());
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(2, 1, 8, 8).requires_grad_();
        var outputs = graph.Forward(x, ForwardCapture.BatchNormInputs);
        TorchGraph.Backward(outputs.Outputs[0].sum(), outputs.Kernels);
        Assert.NotNull(x.grad);
        Assert.All(graph.BatchNormLayers, l => Assert.False(l.Scale.requires_grad || l.Bias.requires_grad || l.Mean.requires_grad || l.Variance.requires_grad));
        Assert.All(outputs.BatchNormInputs, t => Assert.True(t.requires_grad));
    }

    private static void AssertGradientMatchesFiniteDifferences(OnnxModel model, ForwardCapture capture)
    {
        using var graph = TorchGraph.Create(model);
        var random = new Random(7);
        long[] shape = [2, .. graph.InputShape];
        int count = (int)shape.Aggregate(1L, (a, d) => a * d);
        var data = Enumerable.Range(0, count).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        using var scope = torch.NewDisposeScope();
        var logitWeights = torch.tensor(Enumerable.Range(0, 64).Select(_ => random.NextDouble() * 2 - 1).ToArray(), ScalarType.Float64);

        double Loss(Tensor input, bool backward)
        {
            using var inner = torch.NewDisposeScope();
            var result = graph.Forward(input, capture);
            var logits = result.Outputs[0].flatten();
            var loss = (logits * logitWeights[..(int)logits.shape[0]]).sum();
            foreach (var tap in result.BatchNormInputs)
            {
                var perChannel = tap.mean([0L, 2L, 3L]);
                loss = loss.Plus((perChannel * perChannel).sum());
            }

            if (backward)
            {
                TorchGraph.Backward(loss, result.Kernels);
            }

            return loss.item<double>();
        }

        var x = torch.tensor(data, shape, ScalarType.Float64).requires_grad_();
        Loss(x, backward: true);
        var gradient = x.grad!.flatten().data<double>().ToArray();
        Assert.Contains(gradient, g => Math.Abs(g) > 1e-3);

        const double h = 1e-6;
        var positions = Enumerable.Range(0, 16).Select(_ => random.Next(count)).Distinct().ToList();
        using (torch.no_grad())
        {
            foreach (var i in positions)
            {
                var plus = (double[])data.Clone();
                var minus = (double[])data.Clone();
                plus[i] += h;
                minus[i] -= h;
                double numeric = (Loss(torch.tensor(plus, shape, ScalarType.Float64), false) - Loss(torch.tensor(minus, shape, ScalarType.Float64), false)) / (2 * h);
                Assert.True(Math.Abs(numeric - gradient[i]) <= 1e-6 + 1e-5 * Math.Abs(gradient[i]),
                    $"element {i}: autograd {gradient[i]:G10}, finite difference {numeric:G10}");
            }
        }
    }
}
