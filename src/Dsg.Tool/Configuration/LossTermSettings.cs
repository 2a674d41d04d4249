using System.Globalization;
using Dsg.Core;
using Dsg.Core.Generation;

namespace Dsg.Tool.Configuration;

/// <summary>
/// The tool's names for the generator's loss terms: the DSG terms that <c>--without</c> switches off and the
/// weights that <c>--term-weights</c> sets, each mapped onto its <see cref="GenerationOptions"/> property. The
/// default weights are read from <see cref="GenerationOptions.Default"/>, never copied here.
/// </summary>
internal static class LossTermSettings
{
    /// <summary>The value of <see cref="DsgOptions.Without"/> that switches nothing off.</summary>
    public const string None = "none";

    private static readonly SortedDictionary<string, Func<GenerationOptions, GenerationOptions>> s_switches = new(StringComparer.Ordinal)
    {
        ["slack"] = o => o with { UseSlack = false },
        ["lse"] = o => o with { UseLayerwiseEnhancement = false },
        ["sci"] = o => o with { UseCorrelationInhibition = false },
        ["input-stats"] = o => o with { UseInputStatistics = false },
        ["class"] = o => o with { UseCrossEntropy = false },
        ["priors"] = o => o with { UsePriors = false },
        ["smoothing"] = o => o with { SmoothingSigma = 0 },
    };

    private static readonly SortedDictionary<string, (Func<GenerationOptions, double> Get, Func<GenerationOptions, double, GenerationOptions> Set)> s_weights = new(StringComparer.Ordinal)
    {
        ["bn"] = (o => o.BatchNormWeight, (o, v) => o with { BatchNormWeight = v }),
        ["bn-batch"] = (o => o.PooledBatchNormWeight, (o, v) => o with { PooledBatchNormWeight = v }),
        ["input-stats"] = (o => o.InputStatisticsWeight, (o, v) => o with { InputStatisticsWeight = v }),
        ["sci"] = (o => o.CorrelationWeight, (o, v) => o with { CorrelationWeight = v }),
        ["class"] = (o => o.CrossEntropyWeight, (o, v) => o with { CrossEntropyWeight = v }),
        ["tv"] = (o => o.TotalVariationWeight, (o, v) => o with { TotalVariationWeight = v }),
        ["l2"] = (o => o.L2Weight, (o, v) => o with { L2Weight = v }),
    };

    /// <summary>The terms <c>--without</c> accepts, in canonical (ordinal) order.</summary>
    public static IReadOnlyList<string> Terms { get; } = [.. s_switches.Keys];

    /// <summary>The names <c>--term-weights</c> accepts, in canonical (ordinal) order.</summary>
    public static IReadOnlyList<string> WeightNames { get; } = [.. s_weights.Keys];

    /// <summary>
    /// Parses a comma-separated list of terms (any case, duplicates allowed) into its canonical form: distinct,
    /// lower case, ordinally sorted. Empty text and <c>none</c> give the empty list. Null when a name is unknown.
    /// </summary>
    public static IReadOnlyList<string>? ParseWithout(string text)
    {
        if (text.Length == 0 || string.Equals(text, None, StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }

        var terms = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var term = part.ToLowerInvariant();
            if (!s_switches.ContainsKey(term))
            {
                return null;
            }

            terms.Add(term);
        }

        return [.. terms];
    }

    /// <summary>The canonical text of a term list: the names joined by commas, or <c>none</c>.</summary>
    public static string FormatWithout(IReadOnlyList<string> terms) => terms.Count == 0 ? None : string.Join(",", terms);

    /// <summary>
    /// Parses <c>NAME=VALUE[,NAME=VALUE...]</c> (names in any case, each at most once; values non-negative finite
    /// invariant-culture numbers the generator accepts) into the given weights by name. Empty text gives none.
    /// Null when a pair is malformed, a name unknown or repeated, or a value out of range.
    /// </summary>
    public static IReadOnlyDictionary<string, double>? ParseWeights(string text)
    {
        var weights = new SortedDictionary<string, double>(StringComparer.Ordinal);
        if (text.Length == 0)
        {
            return weights;
        }

        foreach (var pair in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', StringSplitOptions.TrimEntries);
            if (parts.Length != 2)
            {
                return null;
            }

            var name = parts[0].ToLowerInvariant();
            if (!s_weights.ContainsKey(name) || weights.ContainsKey(name)
                || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                || !double.IsFinite(value) || value < 0)
            {
                return null;
            }

            weights[name] = value;
        }

        return Accepted(ApplyWeights(GenerationOptions.Default, weights)) ? weights : null;
    }

    /// <summary>
    /// The effective weights as canonical text: every name with its value, the given one or the generator's
    /// default (so naming a default explicitly gives the same text, and the same cache key, as leaving it out).
    /// </summary>
    public static string FormatWeights(IReadOnlyDictionary<string, double> weights)
    {
        var effective = ApplyWeights(GenerationOptions.Default, weights);
        return string.Join(",", s_weights.Select(w => w.Key + "=" + w.Value.Get(effective).ToString("R", CultureInfo.InvariantCulture)));
    }

    /// <summary>Returns <paramref name="options"/> with <paramref name="without"/> switched off and <paramref name="weights"/> set.</summary>
    public static GenerationOptions Apply(GenerationOptions options, IReadOnlyList<string> without, IReadOnlyDictionary<string, double> weights)
    {
        foreach (var term in without)
        {
            options = s_switches[term](options);
        }

        return ApplyWeights(options, weights);
    }

    private static GenerationOptions ApplyWeights(GenerationOptions options, IReadOnlyDictionary<string, double> weights)
    {
        foreach (var (name, value) in weights)
        {
            options = s_weights[name].Set(options, value);
        }

        return options;
    }

    /// <summary>Whether the generator accepts the options, so its ranges are checked in one place.</summary>
    private static bool Accepted(GenerationOptions options)
    {
        try
        {
            options.Validate();
            return true;
        }
        catch (DsgException)
        {
            return false;
        }
    }
}
