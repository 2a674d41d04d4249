using Dsg.Core.Quantization;

namespace Dsg.Core.Tests.Quantization;

public sealed class QuantParamsTests
{
    [Fact]
    public void AsymmetricEightBitRoundTripMatchesHandComputedIntegers()
    {
        // [0, 63.75] on [-128, 127]: scale = 63.75 / 255 = 0.25 (exact), zero point = -128.
        var p = QuantParams.FromRange(0f, 63.75f, IntegerGrid.Signed(8));
        Assert.Equal(0.25f, p.Scale);
        Assert.Equal(-128, p.ZeroPoint);
        Assert.Equal(-128, p.Quantize(0f));
        Assert.Equal(-124, p.Quantize(1f));
        Assert.Equal(-126, p.Quantize(0.375f)); // 1.5 rounds to even 2
        Assert.Equal(-126, p.Quantize(0.625f)); // 2.5 rounds to even 2
        Assert.Equal(127, p.Quantize(100f));    // saturates
        Assert.Equal(-128, p.Quantize(-5f));    // saturates
        Assert.Equal(1.0f, p.Dequantize(-124));
        Assert.Equal(63.75f, p.RangeMax);
        Assert.Equal(0f, p.RangeMin);
    }

    [Fact]
    public void UnsignedActivationGridMatchesHandComputedIntegers()
    {
        // [-1, 2.75] on [0, 15]: scale = 3.75 / 15 = 0.25, zero point = round(0 + 1 / 0.25) = 4.
        var p = QuantParams.FromRange(-1f, 2.75f, IntegerGrid.Unsigned(4));
        Assert.Equal((0.25f, 4), (p.Scale, p.ZeroPoint));
        Assert.Equal(4, p.Quantize(0f));
        Assert.Equal(0, p.Quantize(-1f));
        Assert.Equal(0, p.Quantize(-3f));
        Assert.Equal(15, p.Quantize(2.75f));
        Assert.Equal(15, p.Quantize(9f));
        Assert.Equal(6, p.Quantize(0.5f));
        Assert.Equal((-1f, 2.75f), (p.RangeMin, p.RangeMax));
        Assert.Equal((0, 255), (IntegerGrid.Unsigned(8).QMin, IntegerGrid.Unsigned(8).QMax));
    }

    [Fact]
    public void RangeIsWidenedToIncludeZeroSoZeroIsExact()
    {
        // [2, 10] becomes [0, 10]; [-3, -1] becomes [-3, 0].
        var positive = QuantParams.FromRange(2f, 10f, IntegerGrid.Signed(4));
        Assert.Equal(0f, positive.FakeQuantize(0f));
        Assert.Equal(-8, positive.ZeroPoint);
        var negative = QuantParams.FromRange(-3f, -1f, IntegerGrid.Signed(8));
        Assert.Equal(0f, negative.FakeQuantize(0f));
        Assert.Equal(127, negative.ZeroPoint);
    }

    [Fact]
    public void FourBitGridsHoldHandComputedValues()
    {
        Assert.Equal((-8, 7), (IntegerGrid.Signed(4).QMin, IntegerGrid.Signed(4).QMax));
        Assert.Equal((-7, 7), (IntegerGrid.Symmetric(4).QMin, IntegerGrid.Symmetric(4).QMax));
        Assert.Equal((-32, 31), (IntegerGrid.Signed(6).QMin, IntegerGrid.Signed(6).QMax));
        var p = QuantParams.Symmetric(3.5f, IntegerGrid.Symmetric(4));
        Assert.Equal(0.5f, p.Scale);
        Assert.Equal(3, p.Quantize(1.26f));
        Assert.Equal(-7, p.Quantize(-10f));
        Assert.Equal(7, p.Quantize(3.74f));
        Assert.Equal(1.5f, p.FakeQuantize(1.26f));
    }

    [Fact]
    public void PerChannelWeightsRoundTripToHandComputedIntegers()
    {
        // Channel 0: |max| 127 -> scale 1; channel 1: |max| 63.5 -> scale 0.5.
        float[] w = [127f, -50.4f, 3.5f, 63.5f, -10.25f, 0.75f];
        var q = WeightQuantizer.Quantize(w, [2, 3], axis: 0, bits: 8, WeightRangeMethod.MinMax);
        Assert.Equal([1f, 0.5f], q.Scales);
        Assert.Equal(new sbyte[] { 127, -50, 4, 127, -20, 2 }, q.Values);
        Assert.Equal([127f, -50f, 4f, 63.5f, -10f, 1f], q.Dequantize());
    }

    [Fact]
    public void PerChannelAxisOneUsesColumns()
    {
        // 2x2, axis 1: column 0 = {3.5, -1.25} -> scale 0.5; column 1 = {0.5, 7} -> scale 1.
        float[] w = [3.5f, 0.5f, -1.25f, 7f];
        var q = WeightQuantizer.Quantize(w, [2, 2], axis: 1, bits: 4, WeightRangeMethod.MinMax);
        Assert.Equal([0.5f, 1f], q.Scales);
        Assert.Equal(new sbyte[] { 7, 0, -2, 7 }, q.Values); // -2.5 and 0.5 round to even
    }

    [Fact]
    public void MseClippingNeverDoesWorseThanMinMaxAndClipsAnOutlier()
    {
        var random = new Random(3);
        var w = Enumerable.Range(0, 8192).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        w[17] = 2f; // one outlier in channel 0
        var minMax = WeightQuantizer.Quantize(w, [2, 4096], 0, 4, WeightRangeMethod.MinMax);
        var mse = WeightQuantizer.Quantize(w, [2, 4096], 0, 4, WeightRangeMethod.Mse);
        Assert.True(mse.SqnrDb >= minMax.SqnrDb, $"MSE search {mse.SqnrDb:F2} dB < min/max {minMax.SqnrDb:F2} dB");
        Assert.True(mse.Scales[0] < minMax.Scales[0], "the outlier channel should be clipped");
        Assert.All(mse.Values, v => Assert.InRange(v, -7, 7));
    }
}
