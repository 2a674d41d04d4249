using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dsg.Core.Quantization.Observers;
using Dsg.Core.Quantization.Refinement;

namespace Dsg.Core.Quantization;

/// <summary>
/// Every post-training-quantization choice, with its default in one place. The CLI, the configuration file and
/// the MSBuild metadata all bind to this record. Unset (null) choices take the value of <see cref="Recipe"/>.
/// </summary>
public sealed record QuantizationOptions
{
    /// <summary>The precision presets, as accepted by <see cref="FromPrecision"/>.</summary>
    public static IReadOnlyList<string> Presets { get; } = ["W8A8", "W6A6", "W4A8", "W4A4"];

    /// <summary>The observer the default recipe uses; chosen by measurement (docs/quantization.md).</summary>
    public const ObserverKind DefaultObserver = ObserverKind.Mse;

    /// <summary>Smallest accepted bit width.</summary>
    public const int MinBits = 2;

    /// <summary>Largest accepted bit width.</summary>
    public const int MaxBits = 8;

    /// <summary>Weight bit width (2–8). Default 8.</summary>
    public int WeightBits { get; init; } = 8;

    /// <summary>Activation bit width (2–8). Default 8.</summary>
    public int ActivationBits { get; init; } = 8;

    /// <summary>The recipe that fills every unset choice. Default <see cref="QuantizationRecipe.Default"/>.</summary>
    public QuantizationRecipe Recipe { get; init; } = QuantizationRecipe.Default;

    /// <summary>The activation observer; null takes the recipe's (Default: <see cref="DefaultObserver"/>, Paper: MinMax).</summary>
    public ObserverKind? Observer { get; init; }

    /// <summary>How weight ranges are chosen; null takes the recipe's (Default: Mse, Paper: MinMax).</summary>
    public WeightRangeMethod? WeightRange { get; init; }

    /// <summary>
    /// Whether the first and last weight layers (their weights and input activations) stay at 8 bits; null takes the
    /// recipe's (Default: true, Paper: false, every layer at the target width).
    /// </summary>
    public bool? EightBitFirstLastLayer { get; init; }

    /// <summary>
    /// Whether the model input (the image data itself) is quantized at 8 bits whatever the activation width. Default true
    /// in both recipes: ZeroQ's and DSG's simulated pipelines quantize activations after ReLUs and leave the input in
    /// float, and a 4-bit input grid stretched over synthetic data's wider range costs most of the accuracy
    /// (docs/quantization.md). False quantizes the input at the activation width too.
    /// </summary>
    public bool EightBitInput { get; init; } = true;

    /// <summary>
    /// How 8-bit weights are stored. <see cref="EightBitWeightStorage.Reduced"/> (default): int8 on the 7-bit range
    /// [−63, 63], ONNX Runtime's reduce-range advice, so its fast U8S8 kernels cannot saturate on x86 without VNNI.
    /// <see cref="EightBitWeightStorage.Full"/>: the full [−127, 127] range stored as uint8 q + 128 (U8U8 kernels; exact but
    /// slower than fp32 on AVX2). Measured in docs/quantization.md.
    /// </summary>
    public EightBitWeightStorage EightBitWeights { get; init; } = EightBitWeightStorage.Reduced;

    /// <summary>
    /// What is learned on the calibration samples before the model is written. Default <see cref="RefinementMethod.None"/>
    /// (nearest rounding); <see cref="RefinementMethod.AdaRound"/> learns each weight's rounding layer by layer,
    /// <see cref="RefinementMethod.Brecq"/> the rounding and activation step sizes block by block.
    /// </summary>
    public RefinementMethod Refine { get; init; } = RefinementMethod.None;

    /// <summary>Optimiser steps per layer of the refinement. Default <see cref="AdaRoundSettings.DefaultIterations"/>.</summary>
    public int RefineIterations { get; init; } = AdaRoundSettings.DefaultIterations;

    /// <summary>
    /// Quantization-aware fine-tuning only: the weight of the BatchNorm-statistics term (each folded BatchNorm's output
    /// held to its β and |γ|) against the distillation loss. Default <see cref="AdaRoundSettings.DefaultStatisticsWeight"/>.
    /// </summary>
    public double RefineStatisticsWeight { get; init; } = AdaRoundSettings.DefaultStatisticsWeight;

    /// <summary>
    /// Whether refinement learns from more views of the calibration images than the images themselves: quantization-aware
    /// fine-tuning shifts and flips them at random, BRECQ adds their mirror images (<see cref="AdaRoundSettings.Augment"/>).
    /// Default <see cref="AdaRoundSettings.DefaultAugment"/>.
    /// </summary>
    public bool RefineAugment { get; init; } = AdaRoundSettings.DefaultAugment;

    /// <summary>The percentile the <see cref="ObserverKind.Percentile"/> observer keeps, in (50, 100]. Default 99.99.</summary>
    public double Percentile { get; init; } = 99.99;

    /// <summary>Samples per ONNX Runtime call while calibrating and verifying. Default 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose. Default 0.</summary>
    public int Threads { get; init; }

    /// <summary>The precision as text, for example <c>W4A8</c>.</summary>
    [JsonIgnore]
    public string Precision => $"W{WeightBits}A{ActivationBits}";

    /// <summary>The observer in effect.</summary>
    [JsonIgnore]
    public ObserverKind EffectiveObserver => Observer ?? (Recipe == QuantizationRecipe.Paper ? ObserverKind.MinMax : DefaultObserver);

    /// <summary>The weight-range method in effect.</summary>
    [JsonIgnore]
    public WeightRangeMethod EffectiveWeightRange => WeightRange ?? (Recipe == QuantizationRecipe.Paper ? WeightRangeMethod.MinMax : WeightRangeMethod.Mse);

    /// <summary>Whether the first and last layers stay at 8 bits, in effect.</summary>
    [JsonIgnore]
    public bool EffectiveEightBitFirstLastLayer => EightBitFirstLastLayer ?? Recipe != QuantizationRecipe.Paper;

    /// <summary>
    /// The grid a weight planned at <paramref name="bits"/> is stored on: 8-bit weights on 7 bits with
    /// <see cref="EightBitWeightStorage.Reduced"/>, every other width as it is.
    /// </summary>
    public int WeightGridBits(int bits) => bits == 8 && EightBitWeights == EightBitWeightStorage.Reduced ? 7 : bits;

    /// <summary>The AdaRound settings these options ask for (the paper's, with <see cref="RefineIterations"/> steps per layer).</summary>
    public AdaRoundSettings AdaRound => new() { Iterations = RefineIterations, StatisticsWeight = RefineStatisticsWeight, Augment = RefineAugment };

    /// <summary>The refinement names options accept, in <see cref="RefinementMethod"/> order (the first, none, is the default).</summary>
    public static IReadOnlyList<string> RefinementNames { get; } = Enum.GetNames<RefinementMethod>().Select(n => n.ToLowerInvariant()).ToArray();

    /// <summary>Parses a refinement name (case-insensitive): one of <see cref="RefinementNames"/>.</summary>
    /// <exception cref="DsgException">DSG0301 for another name.</exception>
    public static RefinementMethod ParseRefine(string name) =>
        Enum.TryParse<RefinementMethod>(name, ignoreCase: true, out var method) && Enum.IsDefined(method) && !int.TryParse(name, out _)
            ? method
            : throw Bad("refine", name, string.Join(", ", RefinementNames));

    /// <summary>Options for a preset (<c>W8A8</c>, <c>W6A6</c>, <c>W4A8</c>, <c>W4A4</c>) or any <c>WxAy</c> with widths 2–8.</summary>
    /// <exception cref="DsgException">DSG0301 when the text is not a precision.</exception>
    public static QuantizationOptions FromPrecision(string precision) => new QuantizationOptions().WithPrecision(precision);

    /// <summary>A copy with the weight and activation widths of <paramref name="precision"/>.</summary>
    /// <exception cref="DsgException">DSG0301 when the text is not a precision.</exception>
    public QuantizationOptions WithPrecision(string precision)
    {
        var text = (precision ?? "").Trim().ToUpperInvariant();
        int a = text.IndexOf('A', StringComparison.Ordinal);
        if (text.Length >= 4 && text[0] == 'W' && a > 1
            && int.TryParse(text.AsSpan(1, a - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int w)
            && int.TryParse(text.AsSpan(a + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int act)
            && w is >= MinBits and <= MaxBits && act is >= MinBits and <= MaxBits)
        {
            return this with { WeightBits = w, ActivationBits = act };
        }

        throw new DsgException(ErrorCodes.BadOption,
            $"Option 'precision' has the value '{precision}'; allowed values are {string.Join(", ", Presets)} or WxAy with x and y from {MinBits} to {MaxBits}.",
            "Pass --precision W8A8 (the default), W6A6, W4A8 or W4A4, or WxAy with both widths from 2 to 8.");
    }

    /// <summary>Parses an observer name (case-insensitive): minmax, percentile, mse, entropy, ema.</summary>
    /// <exception cref="DsgException">DSG0301 for another name.</exception>
    public static ObserverKind ParseObserver(string name)
    {
        foreach (var kind in Enum.GetValues<ObserverKind>())
        {
            if (string.Equals(kind.ToString(), name?.Replace("-", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase))
            {
                return kind;
            }
        }

        throw Bad("observer", name, string.Join(", ", Enum.GetNames<ObserverKind>().Select(n => n.ToLowerInvariant())));
    }

    /// <summary>Parses a recipe name (case-insensitive): default, paper.</summary>
    /// <exception cref="DsgException">DSG0301 for another name.</exception>
    public static QuantizationRecipe ParseRecipe(string name) =>
        Enum.TryParse<QuantizationRecipe>(name, ignoreCase: true, out var recipe) && Enum.IsDefined(recipe) && !int.TryParse(name, out _)
            ? recipe
            : throw Bad("recipe", name, "default, paper");

    /// <summary>Parses a weight-range method name (case-insensitive): mse, minmax.</summary>
    /// <exception cref="DsgException">DSG0301 for another name.</exception>
    public static WeightRangeMethod ParseWeightRange(string name) =>
        Enum.TryParse<WeightRangeMethod>(name?.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out var method) && Enum.IsDefined(method) && !int.TryParse(name, out _)
            ? method
            : throw Bad("weight-range", name, "mse, minmax");

    /// <summary>Checks every value; returns this instance so calls chain.</summary>
    /// <exception cref="DsgException">DSG0301 naming the option and its allowed values.</exception>
    public QuantizationOptions Validate()
    {
        if (WeightBits is < MinBits or > MaxBits)
        {
            throw Bad("weight-bits", WeightBits.ToString(CultureInfo.InvariantCulture), $"integers from {MinBits} to {MaxBits}");
        }

        if (ActivationBits is < MinBits or > MaxBits)
        {
            throw Bad("activation-bits", ActivationBits.ToString(CultureInfo.InvariantCulture), $"integers from {MinBits} to {MaxBits}");
        }

        if (!Enum.IsDefined(Recipe))
        {
            throw Bad("recipe", Recipe.ToString(), "default, paper");
        }

        if (Observer is { } o && !Enum.IsDefined(o))
        {
            throw Bad("observer", o.ToString(), string.Join(", ", Enum.GetNames<ObserverKind>().Select(n => n.ToLowerInvariant())));
        }

        if (WeightRange is { } m && !Enum.IsDefined(m))
        {
            throw Bad("weight-range", m.ToString(), "mse, minmax");
        }

        if (!Enum.IsDefined(Refine))
        {
            throw Bad("refine", Refine.ToString(), string.Join(", ", RefinementNames));
        }

        if (RefineIterations is < 1 or > AdaRoundSettings.MaxIterations)
        {
            throw Bad("refine-iterations", RefineIterations.ToString(CultureInfo.InvariantCulture), $"integers from 1 to {AdaRoundSettings.MaxIterations}");
        }

        if (!AdaRoundSettings.IsValidStatisticsWeight(RefineStatisticsWeight))
        {
            throw Bad("refine-statistics-weight", RefineStatisticsWeight.ToString(CultureInfo.InvariantCulture), "finite numbers ≥ 0");
        }

        if (!(Percentile > 50 && Percentile <= 100))
        {
            throw Bad("percentile", Percentile.ToString(CultureInfo.InvariantCulture), "numbers above 50 and at most 100");
        }

        if (BatchSize < 1)
        {
            throw Bad("batch-size", BatchSize.ToString(CultureInfo.InvariantCulture), "positive integers");
        }

        if (Threads < 0)
        {
            throw Bad("threads", Threads.ToString(CultureInfo.InvariantCulture), "0 (automatic) or a positive integer");
        }

        return this;
    }

    /// <summary>The options as compact JSON, with the effective values spelled out (stored in the model's metadata).</summary>
    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["precision"] = Precision,
        ["weightBits"] = WeightBits,
        ["activationBits"] = ActivationBits,
        ["recipe"] = Recipe.ToString().ToLowerInvariant(),
        ["observer"] = EffectiveObserver.ToString().ToLowerInvariant(),
        ["weightRange"] = EffectiveWeightRange.ToString().ToLowerInvariant(),
        ["eightBitFirstLastLayer"] = EffectiveEightBitFirstLastLayer,
        ["eightBitInput"] = EightBitInput,
        ["eightBitWeights"] = EightBitWeights.ToString().ToLowerInvariant(),
        ["percentile"] = Percentile,
        ["refine"] = Refine.ToString().ToLowerInvariant(),
        ["refineIterations"] = RefineIterations,
        ["refineStatisticsWeight"] = RefineStatisticsWeight,
        ["refineAugment"] = RefineAugment,
    });

    private static DsgException Bad(string option, string? value, string allowed) =>
        new(ErrorCodes.BadOption,
            $"Option '{option}' has the value '{value}'; allowed values are {allowed}.",
            $"Change --{option} to one of the allowed values.");
}
