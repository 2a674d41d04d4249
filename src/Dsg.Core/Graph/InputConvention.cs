using System.Globalization;

namespace Dsg.Core.Graph;

/// <summary>
/// The space a model's inputs live in: per channel c, inputs have mean <see cref="Mean"/>[c] and standard deviation
/// <see cref="Std"/>[c] in the model's own units (0 and 1 for the torchvision convention, about 120 and 60 for raw
/// [0, 255] pixels), and optionally stay inside <see cref="Range"/>. Synthetic samples are drawn and optimised in
/// this space (docs/generation.md, "Input conventions").
/// </summary>
/// <param name="Mean">Per-channel mean; a single value applies to every channel.</param>
/// <param name="Std">Per-channel standard deviation (positive); a single value applies to every channel.</param>
/// <param name="Range">The interval every input value lies in, when known.</param>
/// <param name="Source">
/// Where the mean and standard deviation came from: <see cref="Declared"/>, <see cref="Inferred"/> or
/// <see cref="Assumed"/> (the least certain when they differ).
/// </param>
/// <param name="Detail">How the values were found, in words (for example "inferred from Conv 'conv1' + BatchNormalization 'bn1'").</param>
public sealed record InputConvention(IReadOnlyList<double> Mean, IReadOnlyList<double> Std, InputRange? Range, string Source, string Detail)
{
    /// <summary><see cref="Source"/> of values the user gave.</summary>
    public const string Declared = "declared";

    /// <summary><see cref="Source"/> of values fitted to the first convolution and its BatchNorm.</summary>
    public const string Inferred = "inferred";

    /// <summary><see cref="Source"/> of the N(0, 1) fallback, when nothing was declared and nothing could be inferred.</summary>
    public const string Assumed = "assumed";

    /// <summary>N(0, 1) on every channel, no range: the normalised-input convention, assumed.</summary>
    public static InputConvention Standard { get; } = new([0.0], [1.0], null, Assumed, "assumed N(0, 1): nothing declared or inferred");

    /// <summary>Whether this is N(0, 1) on every channel without a range (samples are then used as optimised).</summary>
    public bool IsStandard => Range is null && Mean.All(m => m == 0) && Std.All(s => s == 1);

    /// <summary>The mean of channel <paramref name="channel"/>.</summary>
    public double MeanOf(int channel) => Mean.Count == 1 ? Mean[0] : Mean[channel];

    /// <summary>The standard deviation of channel <paramref name="channel"/>.</summary>
    public double StdOf(int channel) => Std.Count == 1 ? Std[0] : Std[channel];

    /// <summary>Checks the values: finite, positive standard deviations, Min &lt; Max, and every mean inside the range.</summary>
    /// <exception cref="DsgException">DSG0301 naming the bad value.</exception>
    public InputConvention Validate()
    {
        if (Mean is null || Std is null || Mean.Count == 0 || Std.Count == 0)
        {
            throw Bad("The input convention needs at least one mean and one standard deviation.", "Give --input-mean and --input-std one value, or one per channel.");
        }

        if (Mean.Any(m => !double.IsFinite(m)))
        {
            throw Bad($"The input mean {Format(Mean)} is not a list of finite numbers.", "Give --input-mean finite numbers, one or one per channel.");
        }

        if (Std.Any(s => !(s > 0 && double.IsFinite(s))))
        {
            throw Bad($"The input standard deviation {Format(Std)} must be positive and finite.", "Give --input-std positive numbers, one or one per channel.");
        }

        if (Range is { } range)
        {
            if (!(double.IsFinite(range.Min) && double.IsFinite(range.Max) && range.Min < range.Max))
            {
                throw Bad($"The input range {range} is not an interval with MIN < MAX.", "Give --input-range MIN,MAX with MIN < MAX, for example 0,255.");
            }

            if (Mean.Any(m => m < range.Min || m > range.Max))
            {
                throw Bad($"The input mean {Format(Mean)} lies outside the input range {range}.", "Give an --input-mean inside --input-range, or fix the range.");
            }
        }

        return this;
    }

    /// <summary>The convention with one mean and one standard deviation per channel, checked.</summary>
    /// <exception cref="DsgException">DSG0301 when a list has neither one value nor <paramref name="channels"/> values, or a value is bad.</exception>
    public InputConvention ForChannels(int channels)
    {
        Validate();
        foreach (var (name, values) in new[] { ("--input-mean", Mean), ("--input-std", Std) })
        {
            if (values.Count != 1 && values.Count != channels)
            {
                throw Bad($"{name} has {values.Count} values ({Format(values)}) but the model's input has {channels} channel(s).",
                    $"Give {name} one value (every channel) or {channels} comma-separated values, in the order of the model's input channels.");
            }
        }

        return this with
        {
            Mean = Enumerable.Range(0, channels).Select(MeanOf).ToArray(),
            Std = Enumerable.Range(0, channels).Select(StdOf).ToArray(),
        };
    }

    /// <summary>
    /// One line for people, for example <c>mean 0.45 std 0.23 (inferred from Conv 'conv1' + BatchNormalization 'bn1')</c>;
    /// a list is shortened to one value when every channel has it.
    /// </summary>
    public string Describe()
    {
        string range = Range is null ? "" : $" range {Range}";
        return $"mean {Format(Mean)} std {Format(Std)}{range} ({Detail})";
    }

    /// <summary>Values as <c>a,b,c</c> (4 significant digits), or one value when they are all equal.</summary>
    public static string Format(IReadOnlyList<double> values) =>
        values.Count > 0 && values.All(v => v == values[0])
            ? values[0].ToString("G4", CultureInfo.InvariantCulture)
            : string.Join(",", values.Select(v => v.ToString("G4", CultureInfo.InvariantCulture)));

    private static DsgException Bad(string message, string hint) => new(ErrorCodes.BadOption, message, hint);
}
