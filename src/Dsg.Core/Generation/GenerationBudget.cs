using System.Globalization;

namespace Dsg.Core.Generation;

/// <summary>
/// How much generation work a run may spend, as a point on the fidelity-versus-time curve (docs/performance.md):
/// <c>fast</c>, <c>default</c> or <c>thorough</c>. A level caps the samples and iterations, and caps the time they are
/// estimated to take on the model at hand (<see cref="ModelCost.SecondsPerSampleStep"/> × (samples + held-out
/// samples) × iterations, in seconds of the 2-core reference machine), so a 28×28 net keeps the full budget while an
/// ImageNet-size one gets fewer samples first and then fewer iterations. A count the user gives is kept as given.
/// </summary>
/// <param name="Name">The level's name (the option value).</param>
/// <param name="MaxSamples">Calibration samples when the work allows.</param>
/// <param name="MaxIterations">Optimiser steps per batch when the work allows.</param>
/// <param name="MinSamples">The fewest calibration samples the level cuts to.</param>
/// <param name="MinIterations">The fewest steps per batch the level cuts to.</param>
/// <param name="MaxSeconds">
/// The work cap: the estimated seconds of generation on the reference machine (2 cores), held-out samples included.
/// </param>
public sealed record GenerationBudget(string Name, int MaxSamples, int MaxIterations, int MinSamples, int MinIterations, double MaxSeconds)
{
    /// <summary>Few samples and steps: a quick look, or a CI job that must be short (at most about 3.3 minutes of generation).</summary>
    public static GenerationBudget Fast { get; } = new("fast", 128, 200, 32, 25, 200);

    /// <summary>
    /// The default: the paper's 256 × 500 on the 28×28 nets, and at most about 13.3 minutes of generation on 2 cores,
    /// so that W8A8 of ResNet-18 at 224×224 finishes within 15 minutes.
    /// </summary>
    public static GenerationBudget Default { get; } = new("default", 256, 500, 32, 50, 800);

    /// <summary>More samples and steps, for a release build (at most about 53 minutes of generation).</summary>
    public static GenerationBudget Thorough { get; } = new("thorough", 512, 1000, 64, 100, 3_200);

    /// <summary>Every level, in order of cost.</summary>
    public static IReadOnlyList<GenerationBudget> Levels { get; } = [Fast, Default, Thorough];

    /// <summary>The level names, in order (the option's accepted values).</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Levels.Select(l => l.Name)];

    /// <summary>The level called <paramref name="name"/> (case-insensitive), or null.</summary>
    public static GenerationBudget? Parse(string? name) =>
        Levels.FirstOrDefault(l => string.Equals(l.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The samples and iterations of this level on a model that costs <paramref name="cost"/> per sample: the given
    /// counts where there are any; otherwise the level's most, then fewer samples (down to <see cref="MinSamples"/>),
    /// then fewer iterations (down to <see cref="MinIterations"/>) until the estimated time fits.
    /// </summary>
    /// <param name="cost">See <see cref="ModelCost.Measure"/>; <see cref="ModelCost.Free"/> for a source that does not optimise.</param>
    /// <param name="samples">Calibration samples the user gave, or null.</param>
    /// <param name="iterations">Steps per batch the user gave, or null.</param>
    /// <param name="heldOut">The held-out samples for a calibration count (they are generated too, with the same steps).</param>
    public BudgetResolution Resolve(ModelCost cost, int? samples, int? iterations, Func<int, int> heldOut)
    {
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentNullException.ThrowIfNull(heldOut);
        double perStep = Math.Max(0, cost.SecondsPerSampleStep);
        double Work(int s, int i) => perStep * (s + heldOut(s)) * i;
        bool Fits(int s, int i) => Work(s, i) <= MaxSeconds;

        int chosenIterations = iterations ?? MaxIterations;
        int chosenSamples = samples ?? Largest(Math.Min(MinSamples, MaxSamples), MaxSamples, s => Fits(s, chosenIterations));
        if (iterations is null && !Fits(chosenSamples, chosenIterations))
        {
            chosenIterations = Largest(Math.Min(MinIterations, MaxIterations), MaxIterations, i => Fits(chosenSamples, i));
        }

        return new BudgetResolution(this, chosenSamples, chosenIterations, cost, Work(chosenSamples, chosenIterations),
            samples is null && chosenSamples < MaxSamples, iterations is null && chosenIterations < MaxIterations);
    }

    /// <summary>
    /// <see cref="Resolve"/> for <paramref name="model"/> at <paramref name="sampleShape"/>: the model's cost is measured
    /// (<see cref="ModelCost.Measure"/>, one ONNX Runtime pass) only when a count is left to the level.
    /// </summary>
    public BudgetResolution ResolveFor(Onnx.OnnxModel model, long[] sampleShape, int? samples, int? iterations, Func<int, int> heldOut, int threads = 0) =>
        Resolve(samples is null || iterations is null ? ModelCost.Measure(model, sampleShape, threads) : ModelCost.Free, samples, iterations, heldOut);

    /// <summary>The largest value in [low, high] that <paramref name="fits"/> (fits is monotone: true up to a point), or low when none does.</summary>
    private static int Largest(int low, int high, Func<int, bool> fits)
    {
        if (!fits(low))
        {
            return low;
        }

        while (low < high)
        {
            int middle = low + ((high - low + 1) / 2);
            if (fits(middle))
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return low;
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>What a <see cref="GenerationBudget"/> chose for one model.</summary>
/// <param name="Budget">The level.</param>
/// <param name="Samples">Calibration samples.</param>
/// <param name="Iterations">Steps per batch.</param>
/// <param name="Cost">The model's cost per sample.</param>
/// <param name="EstimatedSeconds">The estimated seconds of generation of the choice on the reference machine, held-out samples included.</param>
/// <param name="CutSamples">Whether the level cut the samples below its most to fit the work.</param>
/// <param name="CutIterations">Whether it cut the iterations.</param>
public sealed record BudgetResolution(GenerationBudget Budget, int Samples, int Iterations, ModelCost Cost, double EstimatedSeconds,
    bool CutSamples, bool CutIterations)
{
    /// <summary>One line for logs and reports.</summary>
    public string Describe()
    {
        var c = CultureInfo.InvariantCulture;
        string line = string.Create(c, $"budget {Budget.Name}: {Samples} samples × {Iterations} iterations ({Cost.Describe()}; about {EstimatedSeconds / 60:0.#} min of generation on 2 cores)");
        return CutSamples || CutIterations
            ? line + string.Create(c, $", cut from {Budget.MaxSamples} × {Budget.MaxIterations} to fit {Budget.MaxSeconds / 60:0.#} min")
            : line;
    }
}
