using Dsg.Core.Quantization;
using Dsg.Core.Quantization.Observers;

namespace Dsg.Core.Tests.Quantization;

public sealed class ObserverTests
{
    private static readonly IntegerGrid s_eight = IntegerGrid.Unsigned(8);

    [Fact]
    public void MinMaxKeepsTheExtremesOverBatches()
    {
        var o = new MinMaxObserver();
        o.Observe([1f, 2f, -3f, 0.5f], 2);
        o.Observe([7f, 0f], 1);
        Assert.Equal((-3f, 7f), o.ChooseRange(s_eight));
    }

    [Fact]
    public void EmaAveragesPerSampleExtremes()
    {
        var o = new EmaObserver();
        // Samples: {0, 4} {-2, 2} | {1, 9}: mins 0, -2, 1 -> -1/3; maxes 4, 2, 9 -> 5.
        o.Observe([0f, 4f, -2f, 2f], 2);
        o.Observe([1f, 9f], 1);
        var (min, max) = o.ChooseRange(s_eight);
        Assert.Equal(-1f / 3, min, 5);
        Assert.Equal(5f, max, 5);
        Assert.Equal((-2f, 9f), o.Observed);
    }

    [Fact]
    public void PercentileDropsRareOutliers()
    {
        var values = Enumerable.Range(0, 100_000).Select(i => i / 100_000f).ToArray();
        values[0] = -50f;
        values[1] = 100f;
        var o = new PercentileObserver(99.9);
        o.Observe(values, 1);
        var (min, max) = o.ChooseRange(s_eight);
        Assert.InRange(max, 0.95f, 1.05f);
        Assert.InRange(min, -0.1f, 0.05f);
    }

    [Fact]
    public void MseClipsAHeavyTailAtFourBitsMoreThanAtEight()
    {
        var random = new Random(1);
        var values = Enumerable.Range(0, 50_000).Select(_ => (float)-Math.Log(1 - random.NextDouble())).ToArray(); // Exp(1)
        var o = new MseObserver();
        o.Observe(values, 1);
        var (_, max4) = o.ChooseRange(IntegerGrid.Unsigned(4));
        var (_, max8) = o.ChooseRange(s_eight);
        float seen = o.Observed.Max;
        Assert.True(max4 < max8 && max8 <= seen, $"4-bit {max4}, 8-bit {max8}, seen {seen}");
        Assert.InRange(max4, 2f, 8f);
    }

    [Fact]
    public void MseObserverChoosesTheRangeWithTheSmallestExpectedError()
    {
        var random = new Random(2);
        var values = Enumerable.Range(0, 20_000).Select(_ => (float)(random.NextDouble() * 2 - 1)).Append(30f).ToArray();
        var o = new MseObserver();
        o.Observe(values, 1);
        var grid = IntegerGrid.Unsigned(4);
        var (min, max) = o.ChooseRange(grid);
        double chosen = o.ExpectedError(min, max, grid);
        Assert.True(chosen <= o.ExpectedError(-1f, 30f, grid));
        Assert.True(max < 5f, $"the single outlier at 30 should be clipped, got {max}");
    }

    [Fact]
    public void EntropyClipsALongTailButKeepsAUniformRange()
    {
        var random = new Random(4);
        var uniform = Enumerable.Range(0, 50_000).Select(_ => (float)random.NextDouble() * 4).ToArray();
        var u = new EntropyObserver();
        u.Observe(uniform, 1);
        Assert.InRange(u.ChooseRange(s_eight).Max, 3.6f, 4.01f);

        var tailed = Enumerable.Range(0, 50_000).Select(_ => (float)-Math.Log(1 - random.NextDouble())).ToArray();
        var t = new EntropyObserver();
        t.Observe(tailed, 1);
        Assert.True(t.ChooseRange(IntegerGrid.Unsigned(4)).Max < t.Observed.Max * 0.8f);
    }

    [Fact]
    public void HistogramObserversSurviveARangeThatGrowsBetweenBatches()
    {
        var o = new PercentileObserver(100);
        o.Observe([0f, 1f], 1);
        o.Observe([-10f, 20f], 1);
        var (min, max) = o.ChooseRange(s_eight);
        Assert.Equal(-10f, min, 3);
        Assert.Equal(20f, max, 3);
    }

    [Fact]
    public void NanActivationsAreAUserFacingError()
    {
        var o = new MinMaxObserver();
        var e = Assert.Throws<DsgException>(() => o.Observe([1f, float.NaN], 1));
        Assert.Equal(ErrorCodes.CalibrationNotFinite, e.Code);
    }

    [Fact]
    public void FactoryCreatesEachKind()
    {
        foreach (var kind in Enum.GetValues<ObserverKind>())
        {
            Assert.Equal(kind, ActivationObserverFactory.Create(kind).Kind);
        }
    }
}
