using Dsg.Core.Generation;
using static TorchSharp.torch;

namespace Dsg.Core.Tests.Generation;

/// <summary>The optional crop-from-a-canvas and smoothing stages of a DSG forward pass.</summary>
public sealed class ImagePipelineTests
{
    private static readonly GenerationOptions s_dsg = new() { Device = "cpu" };

    [Fact]
    public void TheKernelIsTheNormalisedThreeByThreeGaussian()
    {
        var k = ImagePipeline.GaussianKernel(1.25);
        double edge = Math.Exp(-1 / (2 * 1.25 * 1.25));
        double corner = Math.Exp(-2 / (2 * 1.25 * 1.25));
        double sum = 1 + (4 * edge) + (4 * corner);
        Assert.Equal(1.0, k.Sum(), 6);
        Assert.Equal(1 / sum, k[4], 6);
        Assert.Equal(edge / sum, k[1], 6);
        Assert.Equal(corner / sum, k[0], 6);
        Assert.Equal(k[0], k[8]);
        Assert.Equal(k[3], k[5]);
        Assert.True(ImagePipeline.GaussianKernel(0.5)[4] > k[4], "a narrower Gaussian keeps more of the centre");
    }

    [Fact]
    public void SmoothingSpreadsAPointByTheKernelPerChannelAndKeepsAConstantInside()
    {
        using var scope = NewDisposeScope();
        var pipeline = ImagePipeline.For(s_dsg with { SmoothingSigma = 1.25 });
        var point = zeros(1, 2, 5, 5);
        point[0, 1, 2, 2] = tensor(1f);
        var spread = pipeline.Smooth(point);
        var k = ImagePipeline.GaussianKernel(1.25);
        Assert.Equal(0f, spread[0, 0].abs().max().item<float>());
        Assert.Equal(k[0], spread[0, 1, 1, 1].item<float>(), 6);
        Assert.Equal(k[4], spread[0, 1, 2, 2].item<float>(), 6);
        Assert.Equal(0f, spread[0, 1, 0, 0].item<float>());
        Assert.True(pipeline.Final(point).allclose(spread), "the samples written are smoothed as the passes were");
        var both = ImagePipeline.For(s_dsg with { SmoothingSigma = 1.25, CanvasPixels = 1 });
        Assert.True(both.Final(point).allclose(spread[.., .., 1..4, 1..4]), "smoothed on the canvas, then cropped");
        var constant = ones(1, 2, 5, 5).Times(3.0);
        var inside = pipeline.Smooth(constant)[.., .., 1..4, 1..4];
        Assert.True(inside.sub(constant[.., .., 1..4, 1..4]).abs().max().item<float>() < 1e-5f);
    }

    [Fact]
    public void TheSamplesAreTheCentreCropAndEachPassACropOfTheModelsSizeThatCarriesTheGradient()
    {
        using var scope = NewDisposeScope();
        var pipeline = ImagePipeline.For(s_dsg with { CanvasPixels = 2, SmoothingSigma = 0 });
        Assert.Equal(new long[] { 3, 1, 10, 12 }, pipeline.CanvasShape(3, [1, 6, 8]));
        var canvas = tensor(Enumerable.Range(0, 120).Select(i => (float)i).ToArray(), [1, 1, 10, 12]).requires_grad_(true);
        var final = pipeline.Final(canvas);
        Assert.Equal(new long[] { 1, 1, 6, 8 }, final.shape);
        Assert.Equal(canvas[0, 0, 2, 2].item<float>(), final[0, 0, 0, 0].item<float>());
        Assert.Equal(canvas[0, 0, 7, 9].item<float>(), final[0, 0, 5, 7].item<float>());

        using var generator = new Generator(5, CPU);
        var seenTopLefts = new HashSet<float>();
        for (int i = 0; i < 40; i++)
        {
            var pass = pipeline.ForPass(canvas, generator);
            Assert.Equal(new long[] { 1, 1, 6, 8 }, pass.shape);
            seenTopLefts.Add(pass[0, 0, 0, 0].item<float>());
        }

        // Offsets 0..4 in each direction: the top-left pixel is one of 25 canvas pixels, and the draws reach several.
        Assert.True(seenTopLefts.Count > 5, $"{seenTopLefts.Count} distinct crops");
        Assert.All(seenTopLefts, v => Assert.True((int)v / 12 <= 4 && (int)v % 12 <= 4, $"{v} outside the offsets"));

        var once = pipeline.ForPass(canvas, generator);
        once.sum().backward();
        var grad = canvas.grad!;
        Assert.Equal(48f, grad.sum().item<float>());
        Assert.Equal(1f, grad.max().item<float>());
    }

    [Fact]
    public void DsgSmoothsByDefaultWithoutACanvasAndZeroQHasNoPipeline()
    {
        var defaults = ImagePipeline.For(s_dsg);
        Assert.True(defaults.Active);
        Assert.Equal(0, defaults.CanvasPixels);
        Assert.Equal(1.25, s_dsg.SmoothingSigma);
        var off = ImagePipeline.For(s_dsg with { SmoothingSigma = 0 });
        Assert.False(off.Active);
        var zeroq = ImagePipeline.For(s_dsg with { Method = GenerationMethod.ZeroQ, CanvasPixels = 4, SmoothingSigma = 1 });
        Assert.False(zeroq.Active);
        Assert.Equal(new long[] { 2, 3, 8, 8 }, zeroq.CanvasShape(2, [3, 8, 8]));
    }
}
