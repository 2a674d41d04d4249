using Dsg.Core.Generation;
using Dsg.Core.Graph;
using Dsg.Core.Pipeline;
using Dsg.Core.Quantization;
using Dsg.Tool.Configuration;
using Dsg.Tool.Output;

namespace Dsg.Tool.Running;

/// <summary>Produces a quantization with <see cref="QuantizePipeline"/>: the settings mapped onto its request, its events onto the reporter.</summary>
internal static class QuantizePipelineProducer
{
    public static Task<QuantizeProduct> ProduceAsync(QuantizeJob job, CancellationToken cancellationToken) => Task.Run(() =>
    {
        var options = job.Options;
        if (options.Threads > 0)
        {
            TorchSharp.torch.set_num_threads(options.Threads);
        }

        var request = RequestFor(options, job.ModelPath, Path.Combine(job.Directory, OutputPublisher.ProducedStem + ".onnx"));
        var outcome = QuantizePipeline.Run(request.Validate(), new ReporterProgress(job.Reporter), cancellationToken);
        return new QuantizeProduct(outcome.Agreement, outcome.Metric);
    }, cancellationToken);

    /// <summary>The pipeline's request for the settings (the guard left to the command, which applies it on hits and misses alike).</summary>
    internal static QuantizeRequest RequestFor(DsgOptions options, string modelPath, string outputPath) => new()
    {
        ModelPath = modelPath,
        OutputPath = outputPath,
        Source = CalibrationSourceFor(options),
        Options = QuantizationOptionsFor(options),
        Samples = options.Samples,
        Iterations = options.Iterations,
        Budget = BudgetFor(options),
        HeldOutSamples = options.HeldOutSamples,
        Seed = options.Seed,
        InputShape = options.InputShape,
        Limits = options.Limits,
        OutputKind = OutputKindDetector.ParseRequested(options.OutputKind),
        // The guard is applied by the command on hits and misses alike, so the entry is cached either way.
        MinAgreement = null,
    };

    internal static QuantizationOptions QuantizationOptionsFor(DsgOptions options) => QuantizationOptions.FromPrecision(options.Precision) with
    {
        Recipe = QuantizationOptions.ParseRecipe(options.Recipe),
        Observer = options.Observer is null ? null : QuantizationOptions.ParseObserver(options.Observer),
        WeightRange = options.WeightRange is null ? null : QuantizationOptions.ParseWeightRange(options.WeightRange),
        EightBitFirstLastLayer = options.FirstLastLayer is null ? null : options.FirstLastLayer == "8bit",
        EightBitInput = options.InputQuantization == "8bit",
        EightBitWeights = options.EightBitWeights == "full" ? EightBitWeightStorage.Full : EightBitWeightStorage.Reduced,
        Refine = QuantizationOptions.ParseRefine(options.Refine),
        RefineIterations = options.RefineIterations,
        BatchSize = options.BatchSize,
        Threads = options.Threads,
    };

    private static ICalibrationSource CalibrationSourceFor(DsgOptions options) =>
        options.CalibrationData is { } path ? new FileCalibrationSource(path)
        : new GeneratorCalibrationSource(GenerationOptionsFor(options), InputDeclarationFor(options));

    /// <summary>The settings' generation budget (validated by the option catalog, so always a known level).</summary>
    public static GenerationBudget BudgetFor(DsgOptions options) =>
        GenerationBudget.Parse(options.Budget) ?? throw new InvalidOperationException($"Unknown budget '{options.Budget}' passed validation.");

    /// <summary>What the settings declare about the model's input convention (the rest is inferred from the model).</summary>
    public static InputConventionDeclaration InputDeclarationFor(DsgOptions options) =>
        new(options.InputMean, options.InputStd, options.InputRange);

    /// <summary>
    /// The generator's settings from the tool's (the same mapping <c>dsg generate</c> uses): the budget, then the
    /// switched-off terms and the given weights over the generator's defaults.
    /// </summary>
    public static GenerationOptions GenerationOptionsFor(DsgOptions options) => LossTermSettings.Apply(new GenerationOptions
    {
        Method = options.Method switch
        {
            "zeroq" => GenerationMethod.ZeroQ,
            "gaussian" => GenerationMethod.Gaussian,
            _ => GenerationMethod.Dsg,
        },
        // The budget's most: the quantize pipeline and the generate command replace both with the budget's choice for the model.
        Samples = options.Samples ?? BudgetFor(options).MaxSamples,
        BatchSize = options.BatchSize,
        Iterations = options.Iterations ?? BudgetFor(options).MaxIterations,
        Seed = options.Seed,
        Device = options.Device,
        Threads = options.Threads,
    }, options.Without, options.TermWeights);

    /// <summary>Passes pipeline events straight to the reporter (synchronously, in order).</summary>
    private sealed class ReporterProgress(Reporter reporter) : IProgress<PipelineEvent>
    {
        public void Report(PipelineEvent value)
        {
            switch (value)
            {
                case PhaseEvent { Status: PhaseStatus.Start } phase:
                    reporter.PhaseStarted(phase.Phase.ToString().ToLowerInvariant());
                    break;
                case PhaseEvent phase:
                    reporter.PhaseDone(phase.Phase.ToString().ToLowerInvariant(), phase.Seconds);
                    break;
                case ProgressEvent progress:
                    reporter.Progress(progress.Phase.ToString().ToLowerInvariant(), progress.Current, progress.Total, progress.Message);
                    break;
                case NoteEvent note:
                    reporter.Note(note.Message);
                    break;
                case WarningEvent warning:
                    reporter.Warning(warning.Code, warning.Message);
                    break;
            }
        }
    }
}
