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
}
