using Dsg.Core.Generation;
using Dsg.Core.Onnx;
using Dsg.Core.Graph;
using Dsg.Core.Quantization;

namespace Dsg.Core.Pipeline;

/// <summary>One run of <see cref="QuantizePipeline"/>; defaults in one place.</summary>
public sealed record QuantizeRequest
{
    /// <summary>The fp32 ONNX model (BatchNorm preserved when a generator is the source).</summary>
    public required string ModelPath { get; init; }

    /// <summary>Where the quantized model goes; the reports go beside it as OUT.report.json and OUT.report.md.</summary>
    public required string OutputPath { get; init; }

    /// <summary>Where the samples come from.</summary>
    public required ICalibrationSource Source { get; init; }

    /// <summary>The quantization choices. Default W8A8, default recipe.</summary>
    public QuantizationOptions Options { get; init; } = new();

    /// <summary>The most held-out samples a run may ask for.</summary>
    public const int MaxHeldOutSamples = 100_000;

    /// <summary>Calibration samples; null (the default) lets <see cref="Budget"/> choose them for the model.</summary>
    public int? Samples { get; init; }

    /// <summary>
    /// Optimiser steps per batch of a generating source; null (the default) lets <see cref="Budget"/> choose them for
    /// the model. Sources that do not optimise ignore it.
    /// </summary>
    public int? Iterations { get; init; }

    /// <summary>The generation budget that chooses the samples and iterations not given. Default <see cref="GenerationBudget.Default"/>.</summary>
    public GenerationBudget Budget { get; init; } = GenerationBudget.Default;

    /// <summary>
    /// Held-out samples for the agreement check (never calibrated on); null (the default) takes
    /// <see cref="DefaultHeldOutSamples"/> of the calibration samples. 1 to <see cref="MaxHeldOutSamples"/>.
    /// </summary>
    public int? HeldOutSamples { get; init; }

    /// <summary>The held-out samples this request uses with <paramref name="samples"/> calibration samples.</summary>
    public int HeldOutFor(int samples) => HeldOutSamples ?? DefaultHeldOutSamples(samples);

    /// <summary>
    /// The samples and iterations of this request on <paramref name="model"/>: the given ones, and the budget's for the
    /// rest. The model's cost per sample is measured only when the source optimises and a count is left to the budget.
    /// </summary>
    public BudgetResolution ResolveBudget(OnnxModel model, long[] sampleShape)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Source.Optimises
            ? Budget.ResolveFor(model, sampleShape, Samples, Iterations, HeldOutFor, Options.Threads)
            : Budget.Resolve(ModelCost.Free, Samples, Iterations, HeldOutFor);
    }

    /// <summary>
    /// The default held-out set for <paramref name="samples"/> calibration samples: a quarter of them, at least 16
    /// and at most 64 (64 for the default 256, 16 for 64 or fewer). The one place this rule is written; the tool's
    /// settings and docs/configuration.md refer to it.
    /// </summary>
    public static int DefaultHeldOutSamples(int samples) => Math.Clamp(samples / 4, 16, 64);

    /// <summary>The seed for the source. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// When set, an agreement below this fails with DSG0720 and nothing is written: top-1 agreement when the first
    /// output holds class scores, mean cosine similarity otherwise.
    /// </summary>
    public double? MinAgreement { get; init; }

    /// <summary>
    /// What the model's first output holds; null (the default) detects it (<see cref="OutputKindDetector"/>). It
    /// chooses the generator's class term and the agreement metric; logits or probabilities on an output that is not
    /// N×K fail with DSG0601.
    /// </summary>
    public OutputKind? OutputKind { get; init; }

    /// <summary>The sample shape (C, H, W) for models whose input has dynamic height or width.</summary>
    public IReadOnlyList<long>? InputShape { get; init; }

    /// <summary>The limits on the model's declared sizes, checked when it loads. Default <see cref="ModelLimits.Default"/>.</summary>
    public ModelLimits Limits { get; init; } = ModelLimits.Default;

    /// <summary>Whether to write OUT.report.json and OUT.report.md. Default true.</summary>
    public bool WriteReports { get; init; } = true;

    /// <summary>OUT.report.json for an output path.</summary>
    public static string JsonReportPath(string outputPath) => Path.ChangeExtension(Path.GetFullPath(outputPath), null) + ".report.json";

    /// <summary>OUT.report.md for an output path.</summary>
    public static string MarkdownReportPath(string outputPath) => Path.ChangeExtension(Path.GetFullPath(outputPath), null) + ".report.md";

    /// <summary>Checks every value.</summary>
    /// <exception cref="DsgException">DSG0301 naming the option.</exception>
    public QuantizeRequest Validate()
    {
        Options.Validate();
        ArgumentNullException.ThrowIfNull(Limits);
        Limits.Validate();
        if (Samples is { } samples && samples < 1)
        {
            throw Bad("samples", samples.ToString(System.Globalization.CultureInfo.InvariantCulture), "positive integers");
        }

        if (Iterations is { } iterations && iterations is < 1 or > GenerationOptions.MaxIterations)
        {
            throw Bad("iterations", iterations.ToString(System.Globalization.CultureInfo.InvariantCulture), $"integers from 1 to {GenerationOptions.MaxIterations}");
        }

        ArgumentNullException.ThrowIfNull(Budget);

        if (HeldOutSamples is { } held && held is < 1 or > MaxHeldOutSamples)
        {
            throw Bad("held-out-samples", held.ToString(System.Globalization.CultureInfo.InvariantCulture), "integers from 1 to 100000");
        }

        if (MinAgreement is { } m && !(m >= 0 && m <= 1))
        {
            throw Bad("min-agreement", m.ToString(System.Globalization.CultureInfo.InvariantCulture), "numbers from 0 to 1");
        }

        if (OutputKind is { } kind && !Enum.IsDefined(kind))
        {
            throw Bad("output-kind", kind.ToString(), "auto, logits, probabilities, embedding and dense");
        }

        if (string.IsNullOrWhiteSpace(OutputPath))
        {
            throw Bad("out", OutputPath, "a file path such as model.int8.onnx");
        }

        if (InputShape is { } s && (s.Count != 3 || s.Any(d => d < 1)))
        {
            throw Bad("input-shape", string.Join(",", s), "three positive integers C,H,W");
        }

        return this;
    }

    private static DsgException Bad(string option, string? value, string allowed) =>
        new(ErrorCodes.BadOption, $"Option '{option}' has the value '{value}'; allowed values are {allowed}.",
            $"Change --{option} to one of the allowed values.");
}
