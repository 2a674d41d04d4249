using Dsg.Tool.Output;

namespace Dsg.Tool.Tests.Output;

public sealed class PhaseClockTests
{
    private readonly ManualClock _time = new();

    [Fact]
    public void TheEstimateIsUnknownUntilAStepBeyondTheFirstReportIsDone()
    {
        var clock = _time.PhaseClock();
        clock.Start("generate");
        _time.AdvanceSeconds(30);
        var first = clock.Measure("generate", 1, 100);
        Assert.Equal(TimeSpan.FromSeconds(30), first.Elapsed);
        Assert.Null(first.Remaining);

        _time.AdvanceSeconds(5);
        Assert.Null(clock.Measure("generate", 1, 100).Remaining);
    }

    [Fact]
    public void TheRateIsMeasuredFromTheFirstReportSoSetUpTimeIsLeftOut()
    {
        var clock = _time.PhaseClock();
        clock.Start("generate");
        _time.AdvanceSeconds(60);     // loading the model and building the graph, then step 1
        clock.Measure("generate", 1, 101);
        _time.AdvanceSeconds(20);     // steps 2 to 11: 2 s each
        var timing = clock.Measure("generate", 11, 101);

        Assert.Equal(TimeSpan.FromSeconds(80), timing.Elapsed);
        Assert.Equal(TimeSpan.FromSeconds(180), timing.Remaining);
    }

    [Fact]
    public void EveryStepDoneLeavesNothing()
    {
        var clock = _time.PhaseClock();
        clock.Start("write");
        _time.AdvanceSeconds(3);
        var timing = clock.Measure("write", 1, 1);
        Assert.Equal(TimeSpan.Zero, timing.Remaining);
        Assert.Equal(TimeSpan.FromSeconds(3), timing.Elapsed);
    }

    [Fact]
    public void ANewPhaseStartsTheElapsedTimeAndTheRateAgain()
    {
        var clock = _time.PhaseClock();
        clock.Start("generate");
        clock.Measure("generate", 1, 10);
        _time.AdvanceSeconds(90);
        clock.Measure("generate", 10, 10);

        _time.AdvanceSeconds(1);
        clock.Start("calibrate");
        _time.AdvanceSeconds(4);
        var first = clock.Measure("calibrate", 1, 5);
        Assert.Equal(TimeSpan.FromSeconds(4), first.Elapsed);
        Assert.Null(first.Remaining);
        _time.AdvanceSeconds(2);
        Assert.Equal(TimeSpan.FromSeconds(6), clock.Measure("calibrate", 2, 5).Remaining);
    }

    [Fact]
    public void AReportOfAPhaseThatWasNotStartedStartsIt()
    {
        var clock = _time.PhaseClock();
        clock.Start("generate");
        _time.AdvanceSeconds(50);
        var timing = clock.Measure("verify", 1, 4);
        Assert.Equal(TimeSpan.Zero, timing.Elapsed);
        Assert.Null(timing.Remaining);
    }

    [Fact]
    public void ACountThatGoesBackStartsTheRateAgainButNotTheElapsedTime()
    {
        var clock = _time.PhaseClock();
        clock.Start("generate");
        clock.Measure("generate", 1, 20);
        _time.AdvanceSeconds(10);
        clock.Measure("generate", 20, 20);

        _time.AdvanceSeconds(1);
        var restarted = clock.Measure("generate", 1, 10);
        Assert.Null(restarted.Remaining);
        Assert.Equal(TimeSpan.FromSeconds(11), restarted.Elapsed);
        _time.AdvanceSeconds(3);
        Assert.Equal(TimeSpan.FromSeconds(24), clock.Measure("generate", 2, 10).Remaining);
    }

    [Fact]
    public void AnUnknownTotalHasNoEstimate()
    {
        var clock = _time.PhaseClock();
        clock.Start("calibrate");
        clock.Measure("calibrate", 1, 0);
        _time.AdvanceSeconds(1);
        Assert.Null(clock.Measure("calibrate", 2, 0).Remaining);
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(4.4, "4s")]
    [InlineData(59.4, "59s")]
    [InlineData(59.6, "1m 00s")]
    [InlineData(62, "1m 02s")]
    [InlineData(3599, "59m 59s")]
    [InlineData(3600, "1h 00m")]
    [InlineData(7500, "2h 05m")]
    [InlineData(-3, "0s")]
    public void DurationsReadAsSecondsMinutesOrHours(double seconds, string expected) =>
        Assert.Equal(expected, ProgressTiming.Format(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void TheTimingReadsElapsedThenTheTimeLeft()
    {
        Assert.Equal("elapsed 1m 02s, about 3m 10s left", new ProgressTiming(TimeSpan.FromSeconds(62), TimeSpan.FromSeconds(190)).Describe());
        Assert.Equal("elapsed 5s", new ProgressTiming(TimeSpan.FromSeconds(5), null).Describe());
        Assert.Equal("elapsed 2h 05m", new ProgressTiming(TimeSpan.FromSeconds(7500), TimeSpan.Zero).Describe());
    }
}
