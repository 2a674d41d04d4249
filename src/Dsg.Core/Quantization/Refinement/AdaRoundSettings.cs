namespace Dsg.Core.Quantization.Refinement;

/// <summary>
/// How AdaRound learns one layer's rounding; the defaults are the paper's (Adam, learning rate 1e-3, λ = 0.01, batches
/// of 32, the first 20 % of the steps without the regulariser, then β annealed from 20 to 2) except the step count,
/// which the paper sets at 10,000 for ImageNet and Dsg chooses for a CPU (docs/quantization.md).
/// </summary>
public sealed record AdaRoundSettings
{
    /// <summary>The default optimiser steps per layer, chosen by measurement (docs/quantization.md).</summary>
    public const int DefaultIterations = 200;

    /// <summary>Optimiser steps per layer. Default <see cref="DefaultIterations"/>.</summary>
    public int Iterations { get; init; } = DefaultIterations;

    /// <summary>Calibration samples per step, drawn at random from the whole set. Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Adam's learning rate on V. Default 1e-3.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>λ, the weight of the rounding regulariser against the reconstruction error. Default 0.01.</summary>
    public double RegularizerWeight { get; init; } = 0.01;

    /// <summary>The fraction of the steps at the start that go without the regulariser. Default 0.2.</summary>
    public double WarmUp { get; init; } = 0.2;

    /// <summary>β when the regulariser starts. Default 20.</summary>
    public double BetaStart { get; init; } = 20;

    /// <summary>β at the last step. Default 2.</summary>
    public double BetaEnd { get; init; } = 2;

    /// <summary>
    /// Quantization-aware fine-tuning only: the weight of the BatchNorm-statistics term against the distillation loss.
    /// Default <see cref="DefaultStatisticsWeight"/>.
    /// </summary>
    public double StatisticsWeight { get; init; } = DefaultStatisticsWeight;

    /// <summary>The default <see cref="StatisticsWeight"/>, chosen by measurement (docs/quantization.md).</summary>
    public const double DefaultStatisticsWeight = 0;

    /// <summary>Whether <paramref name="weight"/> is an accepted <see cref="StatisticsWeight"/>: finite and at least zero.</summary>
    public static bool IsValidStatisticsWeight(double weight) => weight >= 0 && double.IsFinite(weight);

    /// <summary>
    /// Whether refinement sees more views of the images than the images themselves. Quantization-aware fine-tuning shifts
    /// each batch's images by up to an eighth of their size and flips them left-right at random, with the fp32 teacher's
    /// outputs on what the student sees as the targets; BRECQ reconstructs each block on the images and their mirror
    /// images (<see cref="Data.CalibrationSet.WithMirrored"/>). AdaRound does neither. Default <see cref="DefaultAugment"/>.
    /// </summary>
    public bool Augment { get; init; } = DefaultAugment;

    /// <summary>The default <see cref="Augment"/>, chosen by measurement (docs/quantization.md).</summary>
    public const bool DefaultAugment = true;

    /// <summary>Whether samples of <paramref name="sampleShape"/> get the views <see cref="Augment"/> asks for: only images, channels × height × width with both sides at least 8.</summary>
    internal bool Augments(long[] sampleShape) => Augment && sampleShape is [_, >= 8, >= 8];

    /// <summary>The seed of the batch draws.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// β at step <paramref name="step"/> (0-based): null during the warm-up (no regulariser), then falling linearly from
    /// <see cref="BetaStart"/> at the warm-up's end to <see cref="BetaEnd"/> at the last step.
    /// </summary>
    public double? Beta(int step)
    {
        int warm = (int)(WarmUp * Iterations);
        if (step < warm)
        {
            return null;
        }

        int span = Math.Max(1, Iterations - 1 - warm);
        double progress = Math.Clamp((step - warm) / (double)span, 0, 1);
        return BetaStart + (BetaEnd - BetaStart) * progress;
    }

    /// <summary>Checks every value; returns this instance.</summary>
    /// <exception cref="DsgException">DSG0301 naming the setting.</exception>
    public AdaRoundSettings Validate()
    {
        if (Iterations is < 1 or > MaxIterations)
        {
            throw Bad("refine-iterations", Iterations.ToString(System.Globalization.CultureInfo.InvariantCulture), $"integers from 1 to {MaxIterations}");
        }

        if (BatchSize < 1)
        {
            throw Bad("batch-size", BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture), "positive integers");
        }

        if (!(LearningRate > 0) || !(RegularizerWeight >= 0) || !(WarmUp is >= 0 and < 1) || !(BetaStart > 0) || !(BetaEnd > 0)
            || !IsValidStatisticsWeight(StatisticsWeight))
        {
            throw new DsgException(ErrorCodes.BadOption,
                $"AdaRound settings out of range: learning rate {LearningRate}, λ {RegularizerWeight}, warm-up {WarmUp}, β {BetaStart} → {BetaEnd}, statistics weight {StatisticsWeight}.",
                "Use a positive learning rate and β, λ ≥ 0, a finite statistics weight ≥ 0 and a warm-up fraction in [0, 1).");
        }

        return this;
    }

    /// <summary>The most steps per layer accepted.</summary>
    public const int MaxIterations = 1_000_000;

    private static DsgException Bad(string option, string value, string allowed) =>
        new(ErrorCodes.BadOption, $"Option '{option}' has the value '{value}'; allowed values are {allowed}.",
            $"Change --{option} to one of the allowed values.");
}
