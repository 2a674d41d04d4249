using System.Diagnostics;

namespace Dsg.Tool.Output;

/// <summary>
/// Times the running phase and estimates how long it has left from its rate so far: the steps done since the
/// phase's first progress report over the time they took, applied to the steps still to do. Measuring from the first
/// report leaves the phase's set-up (loading, building the graph) out of the rate. The estimate is null until a
/// step beyond that first report is done, and 0 once every step is. The clock is injected, so tests need no waiting.
/// </summary>
internal sealed class PhaseClock
{
    private readonly Func<TimeSpan> _now;
    private readonly object _gate = new();
    private string? _phase;
    private TimeSpan _started;
    private (TimeSpan At, long Steps)? _first;
    private long _last;

    /// <summary>A clock reading <paramref name="now"/>: any monotonic time (only differences matter).</summary>
    public PhaseClock(Func<TimeSpan> now) => _now = now ?? throw new ArgumentNullException(nameof(now));

    /// <summary>The current reading.</summary>
    public TimeSpan Now => _now();

    /// <summary>A clock on the process's monotonic timer.</summary>
    public static PhaseClock StartNew()
    {
        var watch = Stopwatch.StartNew();
        return new PhaseClock(() => watch.Elapsed);
    }

    /// <summary>A phase starts: its elapsed time and rate start from now.</summary>
    public void Start(string phase)
    {
        lock (_gate)
        {
            Restart(phase, _now());
        }
    }

    /// <summary>
    /// The timing of a progress report of <paramref name="phase"/>: <paramref name="current"/> of
    /// <paramref name="total"/> steps done. A phase that was not started starts now; a count that goes back starts
    /// the rate again.
    /// </summary>
    public ProgressTiming Measure(string phase, long current, long total)
    {
        lock (_gate)
        {
            var now = _now();
            if (!string.Equals(phase, _phase, StringComparison.Ordinal))
            {
                Restart(phase, now);
            }

            if (_first is null || current < _last)
            {
                _first = (now, current);
            }

            _last = current;
            var elapsed = now - _started;
            if (total > 0 && current >= total)
            {
                return new ProgressTiming(elapsed, TimeSpan.Zero);
            }

            var (at, steps) = _first.Value;
            if (total <= 0 || current <= steps)
            {
                return new ProgressTiming(elapsed, null);
            }

            double perStep = (now - at).Ticks / (double)(current - steps);
            return new ProgressTiming(elapsed, TimeSpan.FromTicks((long)Math.Round(perStep * (total - current))));
        }
    }

    private void Restart(string phase, TimeSpan now)
    {
        _phase = phase;
        _started = now;
        _first = null;
        _last = 0;
    }
}
