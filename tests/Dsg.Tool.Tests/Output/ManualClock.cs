using Dsg.Tool.Output;

namespace Dsg.Tool.Tests.Output;

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock
{
    public TimeSpan Now { get; private set; } = TimeSpan.FromHours(5);

    public void Advance(TimeSpan by) => Now += by;

    public void AdvanceSeconds(double seconds) => Advance(TimeSpan.FromSeconds(seconds));

    public PhaseClock PhaseClock() => new(() => Now);
}
