using System.Globalization;

namespace Dsg.Core.Data;

/// <summary>
/// How raw 8-bit images become model input: x = (pixel × <see cref="Scale"/> − mean[c]) / std[c], after resizing to
/// <see cref="Width"/>×<see cref="Height"/> (folders of images). One mean/std value applies to every channel.
/// </summary>
public sealed record ImagePreprocessing
{
    /// <summary>Multiplies each 0–255 pixel first. Default 1/255.</summary>
    public float Scale { get; init; } = 1f / 255f;

    /// <summary>Per-channel mean (after scaling). Default 0.</summary>
    public IReadOnlyList<float> Mean { get; init; } = [0f];

    /// <summary>Per-channel standard deviation (after scaling). Default 1.</summary>
    public IReadOnlyList<float> Std { get; init; } = [1f];

    /// <summary>Target width; null takes the model's input width.</summary>
    public int? Width { get; init; }

    /// <summary>Target height; null takes the model's input height.</summary>
    public int? Height { get; init; }

    /// <summary>The mean of channel <paramref name="c"/>.</summary>
    public float MeanOf(int c) => Mean.Count == 1 ? Mean[0] : Mean[c];

    /// <summary>The std of channel <paramref name="c"/>.</summary>
    public float StdOf(int c) => Std.Count == 1 ? Std[0] : Std[c];

    /// <summary>Parses "0.485,0.456,0.406" style lists (invariant culture).</summary>
    /// <exception cref="DsgException">DSG0301 for text that is not a list of numbers.</exception>
    public static float[] ParseList(string option, string text)
    {
        var parts = (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var values = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
            {
                parts = [];
                break;
            }
        }

        if (parts.Length == 0)
        {
            throw new DsgException(ErrorCodes.BadOption, $"Option '{option}' has the value '{text}'; allowed values are comma-separated numbers such as 0.485,0.456,0.406.",
                $"Pass --{option} as one number or one number per channel.");
        }

        return values;
    }

    /// <summary>Checks the values against a channel count.</summary>
    /// <exception cref="DsgException">DSG0301 naming the bad option.</exception>
    public ImagePreprocessing Validate(int channels)
    {
        if (Mean.Count != 1 && Mean.Count != channels)
        {
            throw Bad("mean", string.Join(",", Mean), $"one value or {channels} values (one per channel)");
        }

        if (Std.Count != 1 && Std.Count != channels)
        {
            throw Bad("std", string.Join(",", Std), $"one value or {channels} values (one per channel)");
        }

        if (Std.Any(s => !(s > 0)))
        {
            throw Bad("std", string.Join(",", Std), "positive numbers");
        }

        if (!(Scale > 0) || !float.IsFinite(Scale))
        {
            throw Bad("scale", Scale.ToString(CultureInfo.InvariantCulture), "a positive number such as 0.00392157 (1/255)");
        }

        if (Width is < 1 || Height is < 1)
        {
            throw Bad("size", $"{Width}x{Height}", "positive integers");
        }

        return this;
    }

    private static DsgException Bad(string option, string value, string allowed) =>
        new(ErrorCodes.BadOption, $"Option '{option}' has the value '{value}'; allowed values are {allowed}.",
            $"Change --{option} to one of the allowed values.");
}
