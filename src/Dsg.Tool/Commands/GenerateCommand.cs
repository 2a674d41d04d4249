using System.CommandLine;
using System.Diagnostics;
using Dsg.Core.Generation;
using Dsg.Core.Graph;
using Dsg.Core.Inspection;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Import;
using Dsg.Tool.Configuration;
using Dsg.Tool.Output;
using Dsg.Tool.Running;

namespace Dsg.Tool.Commands;

/// <summary>
/// <c>dsg generate MODEL --out DIR</c>: synthesise samples from the model's BatchNorm statistics (dsg, zeroq) or draw
/// Gaussian noise, in the model's input convention, and write DIR/samples.npy, DIR/preview.png and DIR/generation.json, with progress.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create(GlobalOptions global)
    {
        var command = new Command("generate", "Synthesise calibration samples from a model's BatchNorm statistics and write samples.npy, preview.png and generation.json.");
        var model = new Argument<string>("MODEL") { Description = "The fp32 .onnx model (BatchNormalization preserved)." };
        var output = new Option<string>("--out", "-o") { Description = "The folder to write samples.npy, preview.png and generation.json to (created if missing).", HelpName = "DIR", Required = true };
        var json = GlobalOptions.Json("Print JSON lines (phase, progress, error, result).");
        command.Add(model);
        command.Add(output);
        command.Add(json);
        var settings = new SettingsOptions(command,
        [
            OptionCatalog.Method, OptionCatalog.Budget, OptionCatalog.Samples, OptionCatalog.BatchSize, OptionCatalog.Iterations, OptionCatalog.Seed,
            OptionCatalog.Device, OptionCatalog.Threads, OptionCatalog.Without, OptionCatalog.TermWeights, OptionCatalog.OutputKind, OptionCatalog.InputShape,
            .. OptionCatalog.InputConvention, .. OptionCatalog.Limits,
        ]);
        VerbAction.Set(command, global, json, context =>
        {
            var modelPath = context.FullPath(context.Parse.GetValue(model)!);
            var directory = context.FullPath(context.Parse.GetValue(output)!);
            var options = settings.Resolve(context.Parse, context.Environment, modelPath).Options;
            EnsureWritableFolder(directory);
            return Task.Run(() => Run(context.Reporter, modelPath, directory, options, context.CancellationToken), context.CancellationToken);
        });
        return command;
    }

    private static int Run(Reporter reporter, string modelPath, string directory, DsgOptions options, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var generation = QuantizePipelineProducer.GenerationOptionsFor(options).Validate();
        var file = OnnxModel.Load(modelPath, options.Limits);
        var imported = ModelImporter.Import(file);
        ModelInspector.EnsureReady(file, imported, new ReadinessOptions { InputShape = options.InputShape, Limits = options.Limits },
            runsExecutor: true, needsBatchNorm: generation.Method != GenerationMethod.Gaussian);
        var loaded = imported.Model;

        var input = InputConventionInference.Resolve(loaded, QuantizePipelineProducer.InputDeclarationFor(options), options.InputShape);
        generation = generation with { Input = input };
        var device = SampleGenerator.ResolveDevice(generation.Device);
        reporter.Note($"Input convention: {input.Describe()}");
        reporter.PhaseStarted("generate");
        var phase = Stopwatch.StartNew();
        GenerationResult result;
        using (var graph = TorchGraph.CreateForGeneration(loaded, new TorchGraphOptions(options.InputShape, device)))
        {
            if (generation.Method != GenerationMethod.Gaussian && (options.Samples is null || options.Iterations is null))
            {
                // No held-out samples here: generate makes only the samples asked for.
                var budget = QuantizePipelineProducer.BudgetFor(options).ResolveFor(
                    loaded, graph.InputShape, options.Samples, options.Iterations, _ => 0, options.Threads);
                generation = generation with { Samples = budget.Samples, Iterations = budget.Iterations };
                reporter.Note(budget.Describe());
            }

            var output = OutputKindDetector.Detect(loaded, OutputKindDetector.ParseRequested(options.OutputKind), graph);
            generation = generation with { OutputKind = output.Kind };
            if (generation.Method == GenerationMethod.Dsg)
            {
                reporter.Note($"output: {output.Describe()}; class term: {(generation.UseCrossEntropy ? ClassTerm.Describe(output.Kind) : "off (--without class)")}");
            }

            result = SampleGenerator.Generate(graph, generation, new ReporterProgress(reporter), cancellationToken, w => reporter.Warning(w.Code, w.Message));
        }

        reporter.PhaseDone("generate", phase.Elapsed.TotalSeconds);
        cancellationToken.ThrowIfCancellationRequested();
        reporter.PhaseStarted("write");
        phase.Restart();
        IReadOnlyList<string> written;
        using (result)
        {
            written = GenerationOutputWriter.Write(directory, result);
        }

        reporter.PhaseDone("write", phase.Elapsed.TotalSeconds);
        reporter.Result(new RunResult(written[0], written.Skip(1).ToList(), CacheHit: false, CacheKey: null, clock.Elapsed.TotalSeconds, Agreement: null));
        return VerbAction.Success;
    }

    /// <summary>
    /// Fails fast (DSG0603), before minutes of generation, when <c>--out</c> is a file, lies under a file, or is in a
    /// folder that cannot be written. Nothing is created: a probe file in the nearest existing folder is removed at once.
    /// </summary>
    internal static void EnsureWritableFolder(string directory)
    {
        var existing = directory;
        while (!Directory.Exists(existing))
        {
            if (File.Exists(existing))
            {
                throw Unwritable(directory, existing == directory ? "it is a file" : $"'{existing}' is a file", "Pass a folder to --out (it is created if missing)");
            }

            existing = Path.GetDirectoryName(existing);
            if (existing is null)
            {
                throw Unwritable(directory, "no folder of it exists", "Pass a folder on an existing drive to --out");
            }
        }

        var probe = Path.Combine(existing, $".dsg-write-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (File.Create(probe, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unwritable(directory, $"'{existing}' cannot be written ({Dsg.Core.StorageErrors.Describe(e)})", "Choose an --out folder you can write to");
        }
    }

    private static Dsg.Core.DsgException Unwritable(string directory, string reason, string fix) =>
        new(Dsg.Core.ErrorCodes.GenerationOutputUnwritable, $"Cannot write the samples to '{directory}': {reason}.", $"{fix}; nothing was generated.") { FilePath = directory };

    /// <summary>Generator progress as the generate phase's progress lines.</summary>
    private sealed class ReporterProgress(Reporter reporter) : IProgress<GenerationProgress>
    {
        public void Report(GenerationProgress value)
        {
            // Gaussian noise has no iterations: its steps are batches.
            long current = value.Iterations == 0 ? value.Batch : value.Current, total = value.Iterations == 0 ? value.Batches : value.Total;
            reporter.Progress("generate", (int)Math.Min(current, int.MaxValue), (int)Math.Min(total, int.MaxValue), value.ToString());
        }
    }
}
