using Dsg.Core.Generation;

namespace Dsg.Core.Tests.Generation;

public sealed class PlateauScheduleTests
{
    [Fact]
    public void TheRateHalvesAfterMoreThanPatienceStepsWithoutARelativeImprovement()
    {
        var schedule = new PlateauSchedule(0.1, factor: 0.5, patience: 2, minimum: 0.01);
        Assert.Equal(0.1, schedule.Step(10));      // best 10
        Assert.Equal(0.1, schedule.Step(9.9995));  // within the 1e-4 relative threshold: bad step 1
        Assert.Equal(0.1, schedule.Step(10));      // bad step 2
        Assert.Equal(0.05, schedule.Step(10));     // bad step 3 > patience: halved, count restarts
        Assert.Equal(0.05, schedule.Step(5));      // improvement: best 5
        Assert.Equal(0.05, schedule.Step(6));
        Assert.Equal(0.05, schedule.Step(6));
        Assert.Equal(0.025, schedule.Step(6));
    }

    [Fact]
    public void TheRateNeverGoesBelowTheMinimum()
    {
        var schedule = new PlateauSchedule(0.1, factor: 0.1, patience: 0, minimum: 0.004);
        schedule.Step(1);
        Assert.Equal(0.01, schedule.Step(1), 12);
        Assert.Equal(0.004, schedule.Step(1), 12);
        Assert.Equal(0.004, schedule.Step(1), 12);
        Assert.Equal(0.004, schedule.LearningRate, 12);
    }
}
