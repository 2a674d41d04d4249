using Dsg.Core;
using Dsg.Core.Generation;
using static TorchSharp.torch;

namespace Dsg.Core.Tests.Generation;

/// <summary>The moments and their hand-written backward against libtorch's own var_mean, values and gradients.</summary>
public sealed class ActivationMomentsTests
{
    [Theory]
    [InlineData(new long[] { 3, 4, 5, 6 })]
    [InlineData(new long[] { 5, 7 })]
    [InlineData(new long[] { 2, 3, 9 })]
    public void ValuesAndGradientsMatchVarMeanAutograd(long[] shape)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(7);
        // An offset mean, so that E[x²] − E[x]² is checked away from zero mean.
        var source = randn(shape, generator: generator).Times(2L).Plus(1.5);
        var weights = randn([shape[0], shape[1]], generator: generator);

        var reference = source.detach().clone().requires_grad_(true);
        var (referenceVariance, referenceMean) = reference.reshape(shape[0], shape[1], -1).var_mean(2, unbiased: false);
        (referenceMean * weights).sum().Plus((referenceVariance.Plus(1e-6).sqrt() * weights.square()).sum()).backward();

        var input = source.detach().clone().requires_grad_(true);
        var (mean, variance) = ActivationStatistics.Moments(input);
        (mean * weights).sum().Plus((variance.Plus(1e-6).sqrt() * weights.square()).sum()).backward();

        Assert.True(mean.allclose(referenceMean, rtol: 1e-5, atol: 1e-5));
        Assert.True(variance.allclose(referenceVariance, rtol: 1e-4, atol: 1e-5));
        Assert.True(input.grad!.allclose(reference.grad!, rtol: 1e-3, atol: 1e-5),
            $"max gradient difference {(input.grad! - reference.grad!).abs().max().item<float>()}");
    }

    [Fact]
    public void BatchStatisticsAreTheStatisticsOverSamplesAndPositions()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(3);
        var activation = randn([6, 4, 5, 5], generator: generator).Times(3L).Minus(2);
        var (mean, std) = ActivationStatistics.PerBatch(activation);
        var (variance, expectedMean) = activation.transpose(0, 1).reshape(4, -1).var_mean(1, unbiased: false);
        Assert.True(mean.allclose(expectedMean, rtol: 1e-5, atol: 1e-5));
        Assert.True(std.allclose(variance.Plus(ActivationStatistics.VarianceFloor).sqrt(), rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void AConstantChannelHasZeroVarianceNotARoundingNegative()
    {
        using var scope = NewDisposeScope();
        var (mean, variance) = ActivationStatistics.Moments(ones([2, 3, 4, 4]).Times(0.1f));
        Assert.All(mean.data<float>().ToArray(), m => Assert.Equal(0.1f, m, 6));
        Assert.All(variance.data<float>().ToArray(), v => Assert.True(v >= 0f && v < 1e-8f, $"variance {v}"));
    }

    [Fact]
    public void AnAllZeroChannelHasAFiniteZeroGradient()
    {
        // A channel of zeros (a dead ReLU before a BatchNorm) must give a finite gradient, not NaN: libtorch's own norm
        // backward divides by the norm, so this pins that the moments' backward never does.
        using var scope = NewDisposeScope();
        var input = zeros([2, 3, 4, 4]).requires_grad_(true);
        var (mean, variance) = ActivationStatistics.Moments(input);
        mean.Plus(1L).Squared().sum().Plus(variance.Plus(ActivationStatistics.VarianceFloor).sqrt().sum()).backward();
        var gradient = input.grad!.data<float>().ToArray();
        Assert.All(gradient, g => Assert.True(float.IsFinite(g), $"gradient {g}"));
        Assert.All(gradient, g => Assert.Equal(2f / 16f, g, 6));
    }

    [Fact]
    public void TheMomentsGradientAddsToTheActivationsOtherUses()
    {
        // In the generator the BatchNorm input also feeds the next layer: autograd must sum both paths' gradients.
        using var scope = NewDisposeScope();
        using var generator = new Generator(11);
        var source = randn([4, 3, 5, 5], generator: generator);
        var reference = source.detach().clone().requires_grad_(true);
        var (referenceVariance, referenceMean) = reference.reshape(4, 3, -1).var_mean(2, unbiased: false);
        referenceMean.sum().Plus(referenceVariance.sum()).Plus(reference.Squared().sum()).backward();

        var input = source.detach().clone().requires_grad_(true);
        var (mean, variance) = ActivationStatistics.Moments(input);
        mean.sum().Plus(variance.sum()).Plus(input.Squared().sum()).backward();
        Assert.True(input.grad!.allclose(reference.grad!, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void WithoutGradientsTheMomentsAreValuesOnly()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        var activation = randn([3, 2, 4, 4], generator: generator);
        using (no_grad())
        {
            var (mean, variance) = ActivationStatistics.Moments(activation.requires_grad_(true));
            Assert.False(mean.requires_grad);
            Assert.False(variance.requires_grad);
            var (expectedVariance, expectedMean) = activation.detach().reshape(3, 2, -1).var_mean(2, unbiased: false);
            Assert.True(mean.allclose(expectedMean, rtol: 1e-5, atol: 1e-5));
            Assert.True(variance.allclose(expectedVariance, rtol: 1e-4, atol: 1e-5));
        }
    }
}
