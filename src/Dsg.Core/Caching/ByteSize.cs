using System.Globalization;

namespace Dsg.Core.Caching;

/// <summary>Parses and prints sizes such as <c>2GB</c>, <c>500MB</c>, <c>1.5 GiB</c> or a plain byte count (units are powers of 1024).</summary>
public static class ByteSize
{
    private static readonly (string Suffix, long Factor)[] s_units =
    [
        ("TB", 1L << 40), ("TIB", 1L << 40), ("T", 1L << 40),
        ("GB", 1L << 30), ("GIB", 1L << 30), ("G", 1L << 30),
        ("MB", 1L << 20), ("MIB", 1L << 20), ("M", 1L << 20),
        ("KB", 1L << 10), ("KIB", 1L << 10), ("K", 1L << 10),
        ("B", 1),
    ];

    /// <summary>Parses <paramref name="text"/>; false when it is not a non-negative size.</summary>
    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        var trimmed = (text ?? "").Trim().ToUpperInvariant();
        long factor = 1;
        foreach (var (suffix, unitFactor) in s_units)
        {
            if (trimmed.EndsWith(suffix, StringComparison.Ordinal))
            {
                trimmed = trimmed[..^suffix.Length].TrimEnd();
                factor = unitFactor;
                break;
            }
        }

        if (!double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || double.IsNaN(value) || value * factor > long.MaxValue)
        {
            return false;
        }

        bytes = (long)Math.Round(value * factor);
        return true;
    }

    /// <summary>A short human form: <c>1.5 GB</c>, <c>12.0 MB</c>, <c>640 B</c>.</summary>
    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.0", CultureInfo.InvariantCulture) + " KB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };
}
