using Dsg.Core.Pipeline;

namespace Dsg.Core.Tests.Pipeline;

public sealed class QuantizeRequestTests
{
    private static QuantizeRequest Request(int samples, int? heldOut = null) => new()
    {
        ModelPath = "model.onnx",
        OutputPath = "model.q.onnx",
        Source = new GaussianCalibrationSource(),
        Samples = samples,
        HeldOutSamples = heldOut,
    };

    [Theory]
    [InlineData(1, 16)]
    [InlineData(64, 16)]
    [InlineData(68, 17)]
    [InlineData(100, 25)]
    [InlineData(255, 63)]
    [InlineData(256, 64)]
    [InlineData(1_000_000, 64)]
    public void DefaultHeldOutSetIsAQuarterOfTheSamplesBetween16And64(int samples, int expected)
    {
        Assert.Equal(expected, QuantizeRequest.DefaultHeldOutSamples(samples));
        Assert.Equal(expected, Request(samples).HeldOutFor(samples));
    }

    [Fact]
    public void AnExplicitHeldOutCountWinsOverTheDefault()
    {
        Assert.Equal(5, Request(256, 5).HeldOutFor(256));
        Assert.Equal(500, Request(32, 500).HeldOutFor(32));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(100_001)]
    public void HeldOutCountOutside1To100000IsAnOptionError(int heldOut)
    {
        var e = Assert.Throws<DsgException>(() => Request(32, heldOut).Validate());
        Assert.Equal(ErrorCodes.BadOption, e.Code);
        Assert.Contains("held-out-samples", e.Message);
    }

    [Fact]
    public void HeldOutCountsFrom1To100000AreValid()
    {
        Request(32, 1).Validate();
        Request(32, 100_000).Validate();
        Request(32).Validate();
    }
}
