using System.Diagnostics;
using System.Text.Json;
using Dsg.Core.Evaluation;
using Dsg.Core.Graph;
using Dsg.Core.Inspection;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Import;
using Dsg.Core.Quantization;
using Dsg.Core.Quantization.Qdq;
using Dsg.Core.Quantization.Refinement;

namespace Dsg.Core.Pipeline;

/// <summary>
/// The quantize command's engine: detect the output kind → generate (or load) samples → calibrate → write → verify
/// (top-1 agreement for class scores, mean cosine similarity otherwise). The model and its
/// reports reach the output folder only after verification passes (atomically); a failed agreement guard
/// (DSG0720), an error or a cancellation leaves nothing at the output path.
/// </summary>
public static class QuantizePipeline
{
    /// <summary>Runs the pipeline.</summary>
    /// <exception cref="DsgException">Every user-fixable problem, with its code (DSG01xx model, DSG03xx options, DSG07xx data and quantization, DSG0720 agreement).</exception>
    /// <exception cref="OperationCanceledException">When <paramref name="ct"/> is cancelled.</exception>
    public static QuantizeOutcome Run(QuantizeRequest request, IProgress<PipelineEvent>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var total = Stopwatch.StartNew();
        var seconds = new Dictionary<string, double>();
        var file = OnnxModel.Load(request.ModelPath, request.Limits);
        // The quantized model records the file it came from, so eval can tell a mismatched pair (DSG0712).
        string sourceSha256 = QuantizationMetadata.FileSha256(request.ModelPath);
        var imported = ModelImporter.Import(file);
        // The pass inspect reports, before any work: a model inspect calls ready is one this run accepts.
        ModelInspector.EnsureReady(file, imported, new ReadinessOptions { InputShape = request.InputShape, Limits = request.Limits },
            request.Source.RunsExecutor, request.Source.NeedsBatchNorm);
        var model = imported.Model;
        var shape = SampleShape(model, request);
        var options = request.Options;
        // The graph decides; an executor is built for a probe only when it does not (and only on CPU: one batch).
        var detected = OutputKindDetector.Detect(model, request.OutputKind, new TorchGraphOptions(shape, "cpu"));
        var metric = MetricFor(detected);

        var budget = request.ResolveBudget(model, shape);
        if (request.Source.Optimises)
        {
            progress?.Report(new NoteEvent(budget.Describe()));
        }

        int heldOut = request.HeldOutFor(budget.Samples);
        using var samples = Phase(PipelinePhase.Generate, progress, seconds, () =>
            request.Source.Produce(model, shape, detected, budget.Samples, heldOut, budget.Iterations, request.Seed, progress, ct));
        ct.ThrowIfCancellationRequested();

        var (folded, statistics, plan, activations) = Phase(PipelinePhase.Calibrate, progress, seconds, () =>
        {
            var (f, n) = BatchNormFolder.FoldWithStatistics(model);
            var p = QuantizationPlanner.Plan(f, options);
            var a = Calibrator.Calibrate(f, p, samples.Calibration, options, new SyncProgress(progress, PipelinePhase.Calibrate), ct);
            return (f, n, p, a);
        });
        ct.ThrowIfCancellationRequested();

        var refined = options.Refine == RefinementMethod.None ? RefinedWeights.None : Phase(PipelinePhase.Refine, progress, seconds, () =>
            ModelQuantizer.Refine(folded, statistics, plan, activations, samples.Calibration, options, new RefineProgress(progress), ct));
        ct.ThrowIfCancellationRequested();

        var result = Phase(PipelinePhase.Write, progress, seconds, () =>
        {
            var qdq = QdqWriter.Write(folded, plan, activations, options, refined);
            QuantizationMetadata.StampSource(qdq.Model.Proto, sourceSha256, Path.GetFileName(request.ModelPath));
            return new QuantizationResult(folded, statistics.Count, plan, activations, qdq) { Refinement = refined };
        });
        ct.ThrowIfCancellationRequested();

        var output = Path.GetFullPath(request.OutputPath);
        var (verification, bytes) = Phase(PipelinePhase.Verify, progress, seconds, () =>
        {
            var v = QuantizationVerifier.Verify(result, samples.HeldOut, metric, options.BatchSize, options.Threads, ct);
            if (request.MinAgreement is { } min && v.Agreement < min)
            {
                throw new DsgException(ErrorCodes.AgreementBelowMinimum,
                    $"The quantized model's {AgreementMetrics.Describe(metric)} with fp32 on {v.Samples} held-out samples is {AgreementMetrics.Format(metric, v.Agreement)}, below the minimum {AgreementMetrics.Format(metric, min)} ({detected.KindName} output); nothing was written to '{output}'.",
                    "Use a wider precision (for example W8A8 or W4A8), more calibration samples or iterations, another --observer, or lower --min-agreement.")
                { FilePath = output };
            }

            return (v, result.Model.ToBytes());
        });
        ct.ThrowIfCancellationRequested();

        seconds["total"] = total.Elapsed.TotalSeconds;
        var report = BuildReport(request, imported, output, detected, samples, result, verification, seconds, bytes.LongLength)
            with { Budget = request.Source.Optimises ? budget.Describe() : null };
        var reports = QuantizeOutputs.Publish(output, request.ModelPath, bytes, request.WriteReports ? report : null);

        return new QuantizeOutcome(output, reports, verification.Agreement, total.Elapsed.TotalSeconds, report, result) { Metric = metric };
    }

    /// <summary>The agreement metric that fits an output: top-1 for class scores, cosine similarity for anything else.</summary>
    public static AgreementMetric MetricFor(DetectedOutput output) =>
        (output ?? throw new ArgumentNullException(nameof(output))).IsClassScore ? AgreementMetric.TopOne : AgreementMetric.Cosine;

    /// <summary>The sample shape (C, H, W): the model's fixed input dims, or the declared shape (<see cref="ModelInspector.SampleShape"/>).</summary>
    /// <exception cref="DsgException">DSG0203 when the input has dynamic spatial dims and none were declared; DSG0204 for a non-image input; DSG0109 past the input limit.</exception>
    public static long[] SampleShape(OnnxModel model, QuantizeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ModelInspector.SampleShape(model, request.InputShape, request.Limits);
    }

    private static T Phase<T>(PipelinePhase phase, IProgress<PipelineEvent>? progress, Dictionary<string, double> seconds, Func<T> work)
    {
        progress?.Report(new PhaseEvent(phase, PhaseStatus.Start, 0));
        var watch = Stopwatch.StartNew();
        var value = work();
        double elapsed = watch.Elapsed.TotalSeconds;
        seconds[phase.ToString().ToLowerInvariant()] = elapsed;
        progress?.Report(new PhaseEvent(phase, PhaseStatus.Done, elapsed));
        return value;
    }

    private static QuantizeReport BuildReport(QuantizeRequest request, ImportedModel imported, string output, DetectedOutput detected, CalibrationSamples samples,
        QuantizationResult result, VerificationResult verification, Dictionary<string, double> seconds, long quantizedBytes)
    {
        var sqnr = verification.ActivationSqnrDb;
        var calibrations = result.Qdq.Activations.ToDictionary(a => a.Calibration.Site.Tensor, StringComparer.Ordinal);
        var layers = result.Qdq.Weights.Select(w =>
        {
            var input = w.Site.DataInput;
            return new LayerReport(w.Site.Node, w.Site.OpType, w.Site.Position, w.Site.Bits, w.Weight.SqnrDb, input,
                input is not null && calibrations.TryGetValue(input, out var a) ? a.Calibration.Params.Grid.Bits : null,
                input is not null && sqnr.TryGetValue(input, out var s) ? s : null);
        }).ToList();
        var activations = result.Qdq.Activations.Select(a =>
        {
            var p = a.Calibration.Params;
            return new ActivationReport(a.Calibration.Site.Tensor, a.Calibration.Site.Role, p.Grid.Bits, a.Calibration.ObservedMin,
                a.Calibration.ObservedMax, p.RangeMin, p.RangeMax, p.Scale, p.ZeroPoint, sqnr.GetValueOrDefault(a.Calibration.Site.Tensor, double.NaN));
        }).ToList();
        var options = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(request.Options.ToJson())!
            .ToDictionary(p => p.Key, p => (object)(p.Value.ValueKind switch
            {
                JsonValueKind.Number => p.Value.GetDouble(),
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => p.Value.GetString() ?? "",
            }));
        long fp32Bytes = File.Exists(request.ModelPath) ? new FileInfo(request.ModelPath).Length : imported.Model.ToBytes().LongLength;
        return new QuantizeReport
        {
            DsgVersion = QuantizationMetadata.DsgVersion,
            Model = Path.GetFullPath(request.ModelPath),
            Output = output,
            ModelOpset = imported.OriginalOpset,
            Import = imported.Changes,
            Precision = request.Options.Precision,
            Options = options,
            Source = request.Source.Name,
            SourceDescription = samples.Description,
            InputConvention = samples.Input,
            CalibrationSamples = samples.Calibration.Count,
            HeldOutSamples = samples.HeldOut.Count,
            Seed = request.Seed,
            Seconds = seconds,
            OutputKind = detected.KindName,
            OutputDescription = detected.Describe(),
            AgreementMetric = AgreementMetrics.Name(verification.Metric),
            Agreement = verification.Agreement,
            MinAgreement = request.MinAgreement,
            OutputSqnrDb = verification.OutputSqnrDb,
            FoldedBatchNorms = result.FoldedBatchNorms,
            Int32Biases = result.Qdq.Int32Biases,
            Fp32Bytes = fp32Bytes,
            QuantizedBytes = quantizedBytes,
            Layers = layers,
            Activations = activations,
            Refinement = result.Refinement.Layers,
        };
    }

    /// <summary>Reports refinement steps synchronously as the refine phase's progress (steps over every layer).</summary>
    private sealed class RefineProgress(IProgress<PipelineEvent>? target) : IProgress<RefinementProgress>
    {
        public void Report(RefinementProgress value) =>
            target?.Report(new ProgressEvent(PipelinePhase.Refine, (int)Math.Min(value.Done, int.MaxValue), (int)Math.Min(value.Total, int.MaxValue), value.ToString()));
    }

    /// <summary>Reports calibration batches synchronously (Progress&lt;T&gt; would post them to a thread pool).</summary>
    private sealed class SyncProgress(IProgress<PipelineEvent>? target, PipelinePhase phase) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) =>
            target?.Report(new ProgressEvent(phase, value.Done, value.Total, $"batch {value.Done}/{value.Total}"));
    }
}
