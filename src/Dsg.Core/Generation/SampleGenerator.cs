using System.Diagnostics;
using Dsg.Core.Data;
using Dsg.Core.Generation.Losses;
using Dsg.Core.Graph;
using Dsg.Core.Graph.Execution;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Generation;

/// <summary>
/// Synthesises calibration samples from a model's BatchNorm statistics: DSG, the ZeroQ baseline or Gaussian noise.
/// One batch is optimised at a time with Adam on the images and a plateau scheduler on the total loss. The images are
/// optimised as z in the normalised space of <see cref="GenerationOptions.Input"/> and returned as x = m + s·z, in
/// the model's input space (kept inside a declared range).
/// </summary>
public static class SampleGenerator
{
    /// <summary>
    /// Resolves a device option: <c>cpu</c>, <c>cuda</c> (DSG0303 when TorchSharp reports no CUDA runtime) or
    /// <c>auto</c> (CUDA when available, else CPU). Returns <c>cpu</c> or <c>cuda</c>; create the graph there.
    /// </summary>
    public static string ResolveDevice(string device) => device switch
    {
        "cpu" => "cpu",
        "cuda" when cuda.is_available() => "cuda",
        "cuda" => throw new DsgException(ErrorCodes.CudaUnavailable,
            "CUDA was requested, but TorchSharp reports no CUDA runtime on this machine.",
            "Use --device cpu (or auto), or run where an NVIDIA driver and TorchSharp's CUDA runtime package (libtorch-cuda-*) are installed."),
        "auto" => cuda.is_available() ? "cuda" : "cpu",
        _ => throw new DsgException(ErrorCodes.BadOption, $"Generation option Device is {device}; it must be auto, cpu or cuda.",
            "Set Device to auto, cpu or cuda."),
    };

    /// <summary>
    /// Generates <see cref="GenerationOptions.Samples"/> samples for <paramref name="graph"/>, one batch at a time.
    /// With a fixed seed on CPU the samples are bit-for-bit identical from run to run (same thread count).
    /// </summary>
    /// <param name="graph">The model; create it on <see cref="ResolveDevice"/>(options.Device). With <c>auto</c> the graph's device is used.</param>
    /// <param name="options">The options; validated first.</param>
    /// <param name="progress">Receives reports every <see cref="GenerationOptions.ProgressStride"/> iterations, on the calling thread.</param>
    /// <param name="cancellationToken">Checked every iteration; cancellation throws <see cref="OperationCanceledException"/>.</param>
    /// <param name="warn">
    /// Receives each <see cref="GenerationWarning"/> when it arises (before the first batch), on the calling thread;
    /// <see cref="GenerationResult.Warnings"/> keeps them too.
    /// </param>
    /// <exception cref="DsgException">
    /// DSG0301 (bad option), DSG0303 (CUDA requested, none present), DSG0201 (no BatchNorm layers, except for Gaussian),
    /// DSG0601 (<see cref="GenerationOptions.OutputKind"/> is logits or probabilities, and the output is not N×K),
    /// DSG0602 (the loss diverged).
    /// </exception>
    public static GenerationResult Generate(TorchGraph graph, GenerationOptions options,
        IProgress<GenerationProgress>? progress = null, CancellationToken cancellationToken = default, Action<GenerationWarning>? warn = null)
    {
        var fitted = FitToGraph(graph, options);
        using var model = new TorchGraphGenerationModel(graph);
        return Generate(model, fitted, progress, cancellationToken, warn);
    }

    /// <summary>
    /// The options <see cref="Generate(TorchGraph, GenerationOptions, IProgress{GenerationProgress}?, CancellationToken, Action{GenerationWarning}?)"/>
    /// runs with on <paramref name="graph"/>: the batch size becomes the graph's fixed batch when it declares one (so
    /// <see cref="GenerationOptions.ProgressSteps"/> of the result counts the steps that run will report).
    /// </summary>
    public static GenerationOptions FitToGraph(TorchGraph graph, GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(options);
        // The graph computes only its declared batch (a Reshape to [1, -1], say): optimise that many samples at a time.
        return graph.FixedBatch is long fixedBatch && fixedBatch != options.BatchSize ? options with { BatchSize = (int)fixedBatch } : options;
    }

    internal static GenerationResult Generate(IGenerationModel model, GenerationOptions options,
        IProgress<GenerationProgress>? progress, CancellationToken cancellationToken, Action<GenerationWarning>? warn = null)
    {
        options.Validate();
        TorchRuntime.EnsureLoaded();
        var stopwatch = Stopwatch.StartNew();
        string device = CheckDevice(model, options);
        if (options.Method != GenerationMethod.Gaussian && model.BatchNorms.Count == 0)
        {
            throw new DsgException(ErrorCodes.NoBatchNorm,
                "The model has no BatchNormalization layers, so there are no statistics to generate samples from.",
                "Export the model with BatchNorm preserved (torch.onnx.export(..., training=TrainingMode.PRESERVE)), or use --method gaussian.");
        }

        int previousThreads = get_num_threads();
        if (options.Threads > 0)
        {
            set_num_threads(options.Threads);
        }

        try
        {
            // Every term works on z in the convention's normalised space; the model sees and the caller gets x = m + s·z.
            using var normalised = new NormalisedInputModel(model, options.Input);
            var shape = new long[] { options.Samples, model.InputShape[0], model.InputShape[1], model.InputShape[2] };
            long perSample = model.InputShape[0] * model.InputShape[1] * model.InputShape[2];
            // Large sets go to a scratch file batch by batch, so memory does not grow with the sample count.
            var samples = new CalibrationSet(SampleBuffer.Create(options.Samples * perSample), shape);
            try
            {
                var output = ResolveOutputKind(normalised, options);
                var warnings = new List<GenerationWarning>();
                if (output is { } kind && ClassTerm.OffWarning(options, kind) is { } off)
                {
                    warnings.Add(off);
                    warn?.Invoke(off);
                }

                var margins = ComputeMargins(normalised, options);
                var terms = LossComposition.For(options, model.BatchNorms.Count, margins, output);
                var recorder = new CurveRecorder(terms);
                var batchValues = new float[Math.Min(options.BatchSize, options.Samples) * perSample];
                for (int b = 0; b < options.Batches; b++)
                {
                    int first = b * options.BatchSize;
                    int count = Math.Min(options.BatchSize, options.Samples - first);
                    var destination = batchValues.AsSpan(0, (int)(count * perSample));
                    if (options.Method == GenerationMethod.Gaussian)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        DrawNoise(normalised, options, b, count, destination);
                        progress?.Report(new GenerationProgress(b + 1, options.Batches, 0, 0, 0, new Dictionary<string, double>(), 0));
                    }
                    else
                    {
                        OptimiseBatch(normalised, options, terms, recorder, b, first, count, destination, progress, cancellationToken);
                        ReleaseBatchGarbage();
                    }

                    samples.Write(first, destination);
                }

                // Measured on z through the convention, so pixel cosines compare across conventions.
                var diversity = options.MeasureDiversity ? DiversityMetrics.Compute(normalised, samples, options.BatchSize, normalised.NormaliseInPlace) : null;
                return new GenerationResult(samples, stopwatch.Elapsed.TotalSeconds, options with { Input = normalised.Convention }, device,
                    recorder.Curves(), diversity)
                {
                    OutputKind = output,
                    Warnings = warnings,
                };
            }
            catch
            {
                samples.Dispose();
                throw;
            }
        }
        finally
        {
            if (options.Threads > 0)
            {
                set_num_threads(previousThreads);
            }
        }
    }

    /// <summary>
    /// Every tensor of a batch is disposed by its scope, yet without this, resident memory grew ~6 MiB per batch on
    /// resnet_fmnist while the live-tensor count stayed flat, and a full collection made it flat: native memory held by
    /// managed objects awaiting finalization, which a ~6 MiB managed heap gives the GC no reason to collect
    /// (docs/performance.md). One collection of a heap that small per batch is negligible next to a batch's iterations.
    /// </summary>
    private static void ReleaseBatchGarbage()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>The generator of batch <paramref name="batch"/>: seeded with Seed + batch.</summary>
    internal static Generator BatchGenerator(long seed, int batch, Device device) =>
        new(unchecked((ulong)(seed + batch)), device);

    private static string CheckDevice(IGenerationModel model, GenerationOptions options)
    {
        string actual = model.Device.type == DeviceType.CUDA ? "cuda" : "cpu";
        if (options.Device == "auto")
        {
            return actual;
        }

        string wanted = ResolveDevice(options.Device);
        if (wanted != actual)
        {
            throw new ArgumentException(
                $"The options ask for device '{wanted}' but the graph was created on '{actual}'. Create the graph on SampleGenerator.ResolveDevice(options.Device).",
                nameof(options));
        }

        return actual;
    }

    /// <summary>
    /// The kind of the model's first output, when the class term is asked for: the options' kind, or else the kind
    /// judged from the output of one noise batch (its own generator, so no batch's stream changes). Null otherwise.
    /// </summary>
    private static OutputKind? ResolveOutputKind(NormalisedInputModel model, GenerationOptions options)
    {
        if (options.OutputKind is not null || !LossComposition.WantsClassTerm(options))
        {
            return options.OutputKind;
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var generator = new Generator(unchecked((ulong)options.Seed ^ 0x6A09E667F3BCC908UL), model.Device);
        var noise = randn(NoiseShape(model, Math.Min(options.BatchSize, options.Samples)), generator: generator, device: model.Device);
        return OutputKindDetector.FromValues(model.Forward(noise, captureBatchNormMoments: false, captureFeatures: false).Output);
    }

    private static BatchNormMargins ComputeMargins(NormalisedInputModel model, GenerationOptions options)
    {
        if (!LossComposition.UsesMargins(options))
        {
            return BatchNormMargins.Zero(model.BatchNorms.Count);
        }

        using var scope = NewDisposeScope();
        // A generator of its own, so the margins never share a stream with a batch.
        using var generator = new Generator(unchecked((ulong)options.Seed ^ 0x9E3779B97F4A7C15UL), model.Device);
        var noise = randn(NoiseShape(model, Math.Min(options.BatchSize, options.Samples)), generator: generator, device: model.Device);
        model.Project(noise);
        return BatchNormMargins.Compute(model, noise, options.MarginQuantile);
    }

    private static long[] NoiseShape(IGenerationModel model, long count) =>
        [count, model.InputShape[0], model.InputShape[1], model.InputShape[2]];

    private static void DrawNoise(NormalisedInputModel model, GenerationOptions options, int batch, int count, Span<float> destination)
    {
        using var scope = NewDisposeScope();
        using var generator = BatchGenerator(options.Seed, batch, model.Device);
        var noise = randn(NoiseShape(model, count), generator: generator, device: model.Device);
        model.ToSamples(noise).cpu().data<float>().CopyTo(destination);
    }

    private static void OptimiseBatch(NormalisedInputModel model, GenerationOptions options, IReadOnlyList<LossTerm> terms,
        CurveRecorder recorder, int batch, int first, int count, Span<float> destination,
        IProgress<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        using var batchScope = NewDisposeScope();
        using var generator = BatchGenerator(options.Seed, batch, model.Device);
        var pipeline = ImagePipeline.For(options);
        using var images = new TorchSharp.Modules.Parameter(randn(pipeline.CanvasShape(count, model.InputShape), generator: generator, device: model.Device), requires_grad: true);
        model.Project(images);
        using var optimizer = new AdamState(images, options.LearningRate, rectified: options.Optimizer == GenerationOptimizer.RAdam);
        var schedule = new PlateauSchedule(options.LearningRate, options.PlateauFactor, options.PlateauPatience, options.MinLearningRate);
        bool needsLabels = terms.Any(t => t is RandomLabelCrossEntropy);
        bool jitter = LossComposition.UsesJitter(options);
        bool flip = options.RandomFlip && options.Method == GenerationMethod.Dsg;
        Tensor? labels = null;
        var values = new Tensor[terms.Count];
        for (int iteration = 0; iteration < options.Iterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var seen = pipeline.ForPass(images, generator);
            var input = jitter ? Jitter(seen, options.JitterPixels, generator) : seen;
            if (flip && Coin(generator))
            {
                input = input.flip(3);
            }

            var pass = model.Forward(input, captureBatchNormMoments: true, captureFeatures: false);
            if (needsLabels && labels is null)
            {
                labels = DrawLabels(pass.Output, count, generator, options.OutputKind).MoveToOuterDisposeScope();
            }

            var context = new LossContext
            {
                Images = images,
                ModelInput = input,
                Pass = pass,
                Targets = model.BatchNorms,
                Labels = labels,
                Generator = generator,
                FirstSampleIndex = first,
            };
            Tensor? total = null;
            for (int t = 0; t < terms.Count; t++)
            {
                values[t] = terms[t].Compute(context).Times(terms[t].Weight);
                total = total is null ? values[t] : total.Plus(values[t]);
            }

            TorchGraph.Backward(total!, pass.Kernels);
            optimizer.Step();
            model.Project(images);
            double loss = total!.item<float>();
            if (!double.IsFinite(loss))
            {
                // Name the terms that are not finite, so the hint points at one.
                var culprits = Enumerable.Range(0, terms.Count)
                    .Where(t => !double.IsFinite(values[t].item<float>()))
                    .Select(t => $"{terms[t].Name} = {values[t].item<float>().ToString(System.Globalization.CultureInfo.InvariantCulture)}");
                throw new DsgException(ErrorCodes.GenerationDiverged,
                    $"The generation loss became {loss} at iteration {iteration + 1} of batch {batch + 1} ({string.Join(", ", culprits)}).",
                    $"Lower the learning rate (now {options.LearningRate}) or the weight of the term that grows; see the loss curves.");
            }

            optimizer.LearningRate = schedule.Step(loss);
            bool last = iteration == options.Iterations - 1;
            bool record = iteration % options.CurveStride == 0 || last;
            bool report = progress is not null && (iteration == 0 || (iteration + 1) % options.ProgressStride == 0 || last);
            if (record || report)
            {
                var termValues = new Dictionary<string, double>(terms.Count);
                for (int t = 0; t < terms.Count; t++)
                {
                    termValues[terms[t].Name] = values[t].item<float>();
                }

                if (record)
                {
                    recorder.Add(batch + 1, iteration, loss, termValues);
                }

                if (report)
                {
                    progress!.Report(new GenerationProgress(batch + 1, options.Batches, iteration + 1, options.Iterations,
                        loss, termValues, optimizer.LearningRate));
                }
            }
        }

        using (no_grad())
        {
            model.ToSamples(pipeline.Final(images)).cpu().data<float>().CopyTo(destination);
        }
    }

    private static bool Coin(Generator generator)
    {
        using var drawn = randint(0, 2, [1], generator: generator, device: generator.device).cpu();
        return drawn.item<long>() == 1;
    }

    private static Tensor Jitter(Tensor images, int pixels, Generator generator)
    {
        using var drawn = randint(-pixels, pixels + 1, [2], generator: generator, device: generator.device).cpu();
        var shifts = drawn.data<long>().ToArray();
        return images.roll([shifts[0], shifts[1]], [2, 3]);
    }

    /// <summary>
    /// One label per sample, uniform over the K classes of an N×K (or N×K×1×1) output. An output of another shape can
    /// only get here when the caller declared it logits or probabilities (detection never does): DSG0601.
    /// </summary>
    private static Tensor DrawLabels(Tensor output, long count, Generator generator, OutputKind? declared)
    {
        bool classScores = output.dim() >= 2 && output.shape[0] == count && output.shape[1] >= 2 && output.shape.Skip(2).All(d => d == 1);
        if (!classScores)
        {
            string given = declared is { } k ? $"The output kind is {OutputKindDetector.Name(k)}, but the" : "The";
            throw new DsgException(ErrorCodes.OutputNotClassScores,
                $"{given} model's first output has shape ({string.Join(", ", output.shape)}), not one vector of K >= 2 class scores per sample, so the random-label class term cannot be used.",
                "Use --output-kind auto (or embedding or dense) to let DSG switch the class term off, or --without class.");
        }

        return randint(0, output.shape[1], [count], generator: generator, device: output.device);
    }
}
