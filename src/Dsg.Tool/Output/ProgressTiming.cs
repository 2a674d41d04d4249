using System.Globalization;

namespace Dsg.Tool.Output;

/// <summary>How long the running phase has taken, and about how long it has left (null until it can be estimated).</summary>
/// <param name="Elapsed">Time since the phase started.</param>
/// <param name="Remaining">The estimated time left, or null.</param>
internal readonly record struct ProgressTiming(TimeSpan Elapsed, TimeSpan? Remaining)
{
    /// <summary>For people, for example <c>elapsed 1m 02s, about 3m 10s left</c>, or <c>elapsed 5s</c> without an estimate or at the end.</summary>
    public string Describe() => Remaining is { } left && left > TimeSpan.Zero
        ? $"elapsed {Format(Elapsed)}, about {Format(left)} left"
        : $"elapsed {Format(Elapsed)}";

    /// <summary>A duration for people: <c>42s</c>, <c>1m 02s</c>, or <c>2h 05m</c> from an hour on.</summary>
    public static string Format(TimeSpan duration)
    {
        long seconds = (long)Math.Round(Math.Max(0, duration.TotalSeconds));
        return seconds switch
        {
            < 60 => string.Create(CultureInfo.InvariantCulture, $"{seconds}s"),
            < 3600 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 60}m {seconds % 60:00}s"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600}h {(seconds % 3600) / 60:00}m"),
        };
    }
}
