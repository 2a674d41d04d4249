using Dsg.Core.Quantization.Refinement;
using TorchSharp;

namespace Dsg.Core.Tests.Quantization.Refinement;

public sealed class SoftRoundingTests
{
    [Fact]
    public void RectifiedSigmoidIsStretchedAndClampedToZeroAndOne()
    {
        using var v = torch.tensor(new[] { -10f, -MathF.Log(3), 0f, MathF.Log(3), 10f });
        using var h = SoftRounding.Rectify(v);

        // σ(−ln 3) = 0.25 → 0.25·1.2 − 0.1 = 0.2; σ(0) = 0.5 → 0.5; σ(ln 3) = 0.75 → 0.8; ±10 saturate at exactly 0 and 1.
        Assert.Equal([0f, 0.2f, 0.5f, 0.8f, 1f], h.data<float>().ToArray(), new FloatTolerance(1e-6f));
    }

    [Fact]
    public void InitialLogitsReproduceTheFractionalPart()
    {
        float[] fractions = [0f, 0.1f, 0.25f, 0.5f, 0.75f, 0.999f];
        using var f = torch.tensor(fractions);
        using var v = SoftRounding.InitialLogits(f);
        using var h = SoftRounding.Rectify(v);

        Assert.Equal(fractions, h.data<float>().ToArray(), new FloatTolerance(1e-5f));
        // −log((ζ − γ)/(f − γ) − 1) at f = 0: −log(12 − 1).
        Assert.Equal(-Math.Log(11), v.data<float>()[0], 5);
    }

    [Theory]
    [InlineData(20.0)]
    [InlineData(2.0)]
    public void RegularizerIsOneMinusTheDistanceFromHalfToTheBeta(double beta)
    {
        using var v = torch.tensor(new[] { 0f, MathF.Log(3), -10f, 10f });
        using var reg = SoftRounding.Regularizer(v, beta);

        // h = 0.5, 0.8, 0, 1: 1 − 0^β, 1 − 0.6^β, 1 − 1, 1 − 1.
        Assert.Equal(1 + (1 - Math.Pow(0.6, beta)), reg.item<float>(), 5);
    }

    [Fact]
    public void RegularizerPushesHTowardsTheNearerEnd()
    {
        using var v = new TorchSharp.Modules.Parameter(torch.tensor(new[] { -0.5f, 0.5f }), requires_grad: true);
        using var reg = SoftRounding.Regularizer(v, 2);
        reg.backward();

        // Gradient descent lowers V below the middle and raises it above: h goes to 0 and to 1.
        var grad = v.grad!.data<float>().ToArray();
        Assert.True(grad[0] > 0 && grad[1] < 0, string.Join(", ", grad));
    }

    [Fact]
    public void HardRoundingRoundsUpFromHalf()
    {
        using var v = torch.tensor(new[] { -3f, -0.01f, 0f, 0.01f, 3f });
        using var up = SoftRounding.HardRounding(v);

        Assert.Equal([0f, 0f, 1f, 1f, 1f], up.data<float>().ToArray());
    }

    [Fact]
    public void BetaIsOffDuringTheWarmUpThenFallsLinearlyFromTwentyToTwo()
    {
        var settings = new AdaRoundSettings { Iterations = 101 };

        Assert.Null(settings.Beta(0));
        Assert.Null(settings.Beta(19));
        Assert.Equal(20, settings.Beta(20));
        Assert.Equal(11, settings.Beta(60)!.Value, 9);
        Assert.Equal(2, settings.Beta(100));
        Assert.Equal(0.01, settings.RegularizerWeight);
        Assert.Equal(1e-3, settings.LearningRate);
    }

    [Fact]
    public void SettingsOutOfRangeAreRefusedWithTheBadOptionCode()
    {
        var e = Assert.Throws<DsgException>(() => new AdaRoundSettings { Iterations = 0 }.Validate());
        Assert.Equal(ErrorCodes.BadOption, e.Code);
        Assert.Contains("refine-iterations", e.Message);
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}
