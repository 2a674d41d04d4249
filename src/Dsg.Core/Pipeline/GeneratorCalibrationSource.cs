using System.Globalization;
using Dsg.Core.Data;
using Dsg.Core.Generation;
using Dsg.Core.Graph;
using Dsg.Core.Onnx;

namespace Dsg.Core.Pipeline;

/// <summary>
/// Synthetic samples from <see cref="SampleGenerator"/> (dsg, zeroq or gaussian): the calibration samples with the
/// request's seed, and the held-out samples by a second, independent run with seed + 1 (same method and budget),
/// so the agreement check never sees a calibration sample. Both follow the model's input convention: the declared
/// values over those inferred from the model (<see cref="InputConventionInference.Resolve"/>). Progress counts the
/// steps of both runs as one (the held-out run's continue the calibration run's), so the generate phase has one total.
/// </summary>
public sealed class GeneratorCalibrationSource : ICalibrationSource
{
    /// <summary>
    /// Generates with <paramref name="options"/>; its Samples and Seed are replaced by the request's, its OutputKind by
    /// the detected one, and its Input by the convention resolved from the model and <paramref name="input"/>.
    /// </summary>
    public GeneratorCalibrationSource(GenerationOptions options, InputConventionDeclaration? input = null)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        DeclaredInput = input ?? InputConventionDeclaration.None;
    }

    /// <summary>The generation options.</summary>
    public GenerationOptions Options { get; }

    /// <summary>What the user declared about the input convention (nothing by default: it is inferred).</summary>
    public InputConventionDeclaration DeclaredInput { get; }

    /// <inheritdoc />
    public bool Optimises => Options.Method != GenerationMethod.Gaussian;

    /// <inheritdoc />
    public bool RunsExecutor => true;

    /// <inheritdoc />
    public bool NeedsBatchNorm => Options.Method != GenerationMethod.Gaussian;

    /// <inheritdoc />
    public string Name => Options.Method.ToString().ToLowerInvariant();

    /// <inheritdoc />
    /// <remarks>
    /// The class term follows <paramref name="output"/>'s kind; when the term is off for it, the warning goes to
    /// <paramref name="progress"/> once (as a <see cref="WarningEvent"/>), not once per run.
    /// </remarks>
    public CalibrationSamples Produce(OnnxModel model, long[] sampleShape, DetectedOutput output, int samples, int heldOut, int iterations, int seed,
        IProgress<PipelineEvent>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(output);
        var input = InputConventionInference.Resolve(model, DeclaredInput, sampleShape);
        // The pipeline reports no diversity, and measuring it costs a forward pass over every sample and their Gram matrix.
        var options = Options with { OutputKind = output.Kind, Input = input, Iterations = iterations, MeasureDiversity = false };
        using var graph = TorchGraph.CreateForGeneration(model, new TorchGraphOptions(sampleShape, SampleGenerator.ResolveDevice(options.Device)));
        Action<GenerationWarning>? warn = progress is null ? null : w => progress.Report(new WarningEvent(w.Code, w.Message));
        var calibrationOptions = SampleGenerator.FitToGraph(graph, options with { Samples = samples, Seed = seed });
        var heldOutOptions = SampleGenerator.FitToGraph(graph, options with { Samples = heldOut, Seed = seed + 1L, BatchSize = Math.Min(options.BatchSize, heldOut) });
        // One count over both runs, so the generate phase's progress (and its estimate of the time left) covers both.
        long steps = calibrationOptions.ProgressSteps + heldOutOptions.ProgressSteps;
        var calibration = SampleGenerator.Generate(graph, calibrationOptions, PhaseSteps.For(progress, "", 0, steps), ct, warn);
        GenerationResult held;
        try
        {
            held = SampleGenerator.Generate(graph, heldOutOptions, PhaseSteps.For(progress, "held-out ", calibrationOptions.ProgressSteps, steps), ct, warn: null);
        }
        catch
        {
            calibration.Dispose();
            throw;
        }

        string description = string.Create(CultureInfo.InvariantCulture,
            $"{Name}: {samples} calibration samples (seed {seed}) + {heldOut} held-out samples (seed {seed + 1}), {iterations} iterations, batch {calibration.Options.BatchSize}, {calibration.Seconds + held.Seconds:F1} s on {calibration.Device}; input {input.Describe()}");
        // The sets (and any scratch files) pass to the returned samples, which the pipeline disposes.
        return new CalibrationSamples(calibration.Samples, held.Samples, description,
            calibration.Options.Input);
    }

    /// <summary>
    /// A generator run's progress as the generate phase's: its steps after the <paramref name="offset"/> steps of the
    /// runs before it, out of <paramref name="total"/> for all of them; the message names the run by <paramref name="prefix"/>.
    /// </summary>
    internal sealed class PhaseSteps(IProgress<PipelineEvent> target, string prefix, long offset, long total) : IProgress<GenerationProgress>
    {
        public static PhaseSteps? For(IProgress<PipelineEvent>? target, string prefix, long offset, long total) =>
            target is null ? null : new PhaseSteps(target, prefix, offset, total);

        public void Report(GenerationProgress value)
        {
            // Gaussian noise has no iterations: its steps are batches.
            long current = offset + (value.Iterations == 0 ? value.Batch : value.Current);
            target.Report(new ProgressEvent(PipelinePhase.Generate, (int)Math.Min(current, int.MaxValue), (int)Math.Min(total, int.MaxValue), prefix + value));
        }
    }
}
