using System;
using System.Globalization;

namespace Dsg.Build.Tasks;

/// <summary>Durations for build output, written as the tool writes them (<c>42s</c>, <c>1m 02s</c>, <c>2h 05m</c>).</summary>
internal static class DurationText
{
    /// <summary>Formats <paramref name="seconds"/> (negative counts as 0).</summary>
    public static string Format(double seconds)
    {
        long s = (long)Math.Round(Math.Max(0, seconds));
        if (s < 60)
        {
            return s.ToString(CultureInfo.InvariantCulture) + "s";
        }

        return s < 3600
            ? (s / 60).ToString(CultureInfo.InvariantCulture) + "m " + (s % 60).ToString("00", CultureInfo.InvariantCulture) + "s"
            : (s / 3600).ToString(CultureInfo.InvariantCulture) + "h " + (s % 3600 / 60).ToString("00", CultureInfo.InvariantCulture) + "m";
    }
}
