using Dsg.Core.Graph;
using Dsg.Core.Graph.Execution;
using static TorchSharp.torch;

namespace Dsg.Core.Tests.Graph;

/// <summary>The float32 convolution paths the generation and ConvTranspose rely on agree with float64 (see OneDnnConvolutionGuard).</summary>
public sealed class OneDnnConvolutionGuardTests
{
    [Fact]
    public void ConvolutionInputGradientsAndDeconvolutionsOfABatchMatchFloat64()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        var images = randn([4, 3, 14, 14], generator: generator).requires_grad_(true);
        var weight = randn([8, 3, 3, 3], generator: generator);
        var upstream = randn([4, 8, 14, 14], generator: generator);
        var gradient = autograd.grad([nn.functional.conv2d(images, weight, padding: [1, 1])], [images], [upstream])[0];
        var expected = nn.functional.conv_transpose2d(upstream.to(float64), weight.to(float64), padding: [1, 1]);
        Assert.True((gradient.to(float64) - expected).abs().max().item<double>() < 1e-3);
        Tensor deconvolution;
        using (no_grad())
        {
            deconvolution = nn.functional.conv_transpose2d(upstream, weight, padding: [1, 1]);
        }

        Assert.True((deconvolution.to(float64) - expected).abs().max().item<double>() < 1e-3);
    }

    [Fact]
    public void AGraphsForwardAndBackwardMatchFloat64WhereverEachRuns()
    {
        // A graph's forward and backward passes, with the convolutions the guard left in place: both must be right.
        var b = new OnnxGraphBuilder();
        b.Input("x", null, 3, 14, 14).Output("y", null, 8, 14, 14);
        var random = new Random(7);
        string w = b.RandomWeight("w", random, 0.5, 8, 3, 3, 3);
        b.Node("Conv", ["x", w], ["y"], OnnxGraphBuilder.Ints("pads", 1, 1, 1, 1));
        var model = b.Build();
        using var graph = TorchGraph.Create(model);
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        var images = randn([4, 3, 14, 14], generator: generator).requires_grad_(true);
        var upstream = randn([4, 8, 14, 14], generator: generator);
        var weight = tensor(Dsg.Core.Onnx.OnnxTensor.ToFloats(model.Graph.Initializer.Single()), [8, 3, 3, 3]);

        var output = graph.Forward(images).Outputs[0];
        TorchGraph.Backward((output * upstream).sum());

        var expectedOutput = nn.functional.conv2d(images.detach().to(float64), weight.to(float64), padding: [1, 1]);
        var expectedGradient = nn.functional.conv_transpose2d(upstream.to(float64), weight.to(float64), padding: [1, 1]);
        Assert.True((output.detach().to(float64) - expectedOutput).abs().max().item<double>() < 1e-3);
        Assert.True((images.grad!.to(float64) - expectedGradient).abs().max().item<double>() < 1e-3);
    }
}
