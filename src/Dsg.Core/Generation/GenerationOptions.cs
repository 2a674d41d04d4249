using System.Globalization;
using Dsg.Core.Graph;

namespace Dsg.Core.Generation;

/// <summary>
/// Every setting of sample generation, with its default, in one place. The CLI, the configuration file and
/// MSBuild metadata all bind to this record. Call <see cref="Validate"/> before use
/// (<see cref="SampleGenerator.Generate(TorchGraph, GenerationOptions, IProgress{GenerationProgress}?, CancellationToken, Action{GenerationWarning}?)"/> does).
/// </summary>
public sealed record GenerationOptions
{
    /// <summary>The options with every default.</summary>
    public static GenerationOptions Default { get; } = new();

    /// <summary>How samples are made. Default <see cref="GenerationMethod.Dsg"/>.</summary>
    public GenerationMethod Method { get; init; } = GenerationMethod.Dsg;

    /// <summary>Number of samples to produce (1 to 1,000,000). Default 256.</summary>
    public int Samples { get; init; } = 256;

    /// <summary>Samples optimised together (1 to 4096); the last batch is trimmed. Default 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Optimiser steps per batch (1 to 100,000). Ignored by <see cref="GenerationMethod.Gaussian"/>. Default 500.</summary>
    public int Iterations { get; init; } = 500;

    /// <summary>Random seed; batch b uses a generator seeded with <c>Seed + b</c>. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary><c>auto</c> (CUDA when TorchSharp reports it, else CPU), <c>cpu</c> or <c>cuda</c>. Default <c>auto</c>.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>Intra-op CPU threads for libtorch (0 leaves libtorch's default; at most 1024). Default 0.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// The model's input convention: samples start as N(m, s²) per channel, the input-statistics term pulls each
    /// sample's channel mean and std to m and s, and samples stay inside its range when one is given; every term is
    /// computed on z = (x − m)/s (docs/generation.md, "Input conventions"). Resolve it with
    /// <see cref="InputConventionInference.Resolve"/>. Default <see cref="InputConvention.Standard"/>: N(0, 1).
    /// </summary>
    public InputConvention Input { get; init; } = InputConvention.Standard;

    /// <summary>The optimiser on the images. Default <see cref="GenerationOptimizer.Adam"/>.</summary>
    public GenerationOptimizer Optimizer { get; init; } = GenerationOptimizer.Adam;

    /// <summary>The optimiser's initial learning rate on the images (greater than 0, at most 100). Default 0.25.</summary>
    public double LearningRate { get; init; } = 0.25;

    /// <summary>Factor by which the plateau scheduler cuts the learning rate (greater than 0, less than 1). Default 0.5.</summary>
    public double PlateauFactor { get; init; } = 0.5;

    /// <summary>Iterations without improvement of the total loss before the learning rate is cut (0 to 100,000). Default 30.</summary>
    public int PlateauPatience { get; init; } = 30;

    /// <summary>The learning rate never falls below this (0 to 10). Default 1e-4.</summary>
    public double MinLearningRate { get; init; } = 1e-4;

    /// <summary>ε: the quantile of the statistic gaps of noise in the input space (N(m, s²)) used as SDA margins (0 to 1; 0 is exact alignment). Default 0.9.</summary>
    public double MarginQuantile { get; init; } = 0.9;

    /// <summary>LSE: the weight of layer <c>n mod L</c> for sample n (1 to 100; other layers weigh 1). Default 2.</summary>
    public double EnhancementFactor { get; init; } = 2.0;

    /// <summary>Weight of the BatchNorm statistics term (SDA for DSG, batch alignment for ZeroQ). Default 1.</summary>
    public double BatchNormWeight { get; init; } = 1.0;

    /// <summary>
    /// DSG: weight of a second BatchNorm term, ZeroQ's alignment of the whole batch's statistics (mean and std over
    /// N, H, W), beside the per-sample SDA; 0 leaves it out. Default 0.
    /// </summary>
    public double PooledBatchNormWeight { get; init; }

    /// <summary>Weight of the input-statistics term (per-sample channel mean m, std s of <see cref="Input"/>). Default 1.</summary>
    public double InputStatisticsWeight { get; init; } = 1.0;

    /// <summary>Weight of Sample Correlation Inhibition. Default 1.</summary>
    public double CorrelationWeight { get; init; } = 1.0;

    /// <summary>Which SCI form is used. Default <see cref="Generation.CorrelationForm.OffDiagonalCosine"/> (see docs/generation.md).</summary>
    public CorrelationForm CorrelationForm { get; init; } = CorrelationForm.OffDiagonalCosine;

    /// <summary>
    /// Weight of the cross-entropy against uniformly random labels. Default 5: of 1, 5 and 10 it gave the best W4A4
    /// accuracy over both recipes and test assets (3 seeds each; docs/generation.md).
    /// </summary>
    public double CrossEntropyWeight { get; init; } = 5.0;

    /// <summary>Weight of the total-variation prior (L2 of neighbour differences, per sample). Default 0.01.</summary>
    public double TotalVariationWeight { get; init; } = 0.01;

    /// <summary>Weight of the L2-norm prior on the jittered images (per sample). Default 0.01.</summary>
    public double L2Weight { get; init; } = 0.01;

    /// <summary>Largest random shift, in pixels, applied to the images before each DSG forward pass (0 to 64). Default 2.</summary>
    public int JitterPixels { get; init; } = 2;

    /// <summary>Flip the images left-right before a DSG forward pass, at random (p = 0.5 per iteration), so features are learned both ways round. Default false.</summary>
    public bool RandomFlip { get; init; }

    /// <summary>
    /// Image pipeline (<see cref="ImagePipeline"/>): DSG optimises images this many pixels larger on every side and each
    /// forward pass sees a random crop of the model's size; the samples are the centre crops (0 to 64). Default 0 (off;
    /// docs/generation.md, "The image pipeline").
    /// </summary>
    public int CanvasPixels { get; init; }

    /// <summary>
    /// Image pipeline: standard deviation, in pixels, of a 3×3 Gaussian smoothing applied before each DSG forward pass and
    /// to the samples written (0 to 10; 0 is off). Default 1.25 (Sony MCT's value): on the tuning split it gained W4A4
    /// top-1 under both recipes over 3 seeds (docs/generation.md, "The image pipeline").
    /// </summary>
    public double SmoothingSigma { get; init; } = 1.25;

    /// <summary>DSG ablation: per-sample margins (false sets every margin to 0, i.e. exact per-sample alignment). Default true.</summary>
    public bool UseSlack { get; init; } = true;

    /// <summary>DSG ablation: Layerwise Sample Enhancement. Default true.</summary>
    public bool UseLayerwiseEnhancement { get; init; } = true;

    /// <summary>DSG ablation: Sample Correlation Inhibition. Default true.</summary>
    public bool UseCorrelationInhibition { get; init; } = true;

    /// <summary>DSG ablation: the input-statistics term. Default true.</summary>
    public bool UseInputStatistics { get; init; } = true;

    /// <summary>DSG ablation: the random-label cross-entropy. Default true.</summary>
    public bool UseCrossEntropy { get; init; } = true;

    /// <summary>
    /// What the model's first output holds, which chooses the class term: cross-entropy on logits and
    /// log-probabilities, NLL on the log of the probabilities, and no class term (with a warning) for an embedding or
    /// a dense map. Null (the default) judges it from the output of one noise batch (<see cref="OutputKindDetector.FromValues"/>),
    /// which cannot tell an embedding from logits: callers that have the ONNX model pass
    /// <see cref="OutputKindDetector.Detect(Onnx.OnnxModel, Graph.OutputKind?, TorchGraph?)"/>'s kind.
    /// </summary>
    public OutputKind? OutputKind { get; init; }

    /// <summary>DSG ablation: jitter and the total-variation and L2 priors (not the smoothing: <see cref="SmoothingSigma"/>). Default true.</summary>
    public bool UsePriors { get; init; } = true;

    /// <summary>Progress is reported every this many iterations (and at the first and last; 1 to 100,000). Default 10.</summary>
    public int ProgressStride { get; init; } = 10;

    /// <summary>Loss curves keep one point every this many iterations (and the first and last; 1 to 100,000). Default 10.</summary>
    public int CurveStride { get; init; } = 10;

    /// <summary>
    /// Whether to measure the samples' diversity at the end (<see cref="GenerationResult.Diversity"/>): one more forward
    /// pass over every sample and their pixel Gram matrix, minutes for hundreds of 224×224 samples. Default true; the
    /// quantize pipeline, which reports no diversity, turns it off.
    /// </summary>
    public bool MeasureDiversity { get; init; } = true;

    /// <summary>The most optimiser steps per batch a run may ask for.</summary>
    public const int MaxIterations = 100_000;

    /// <summary>Number of batches: <c>ceil(Samples / BatchSize)</c>.</summary>
    public int Batches => (Samples + BatchSize - 1) / BatchSize;

    /// <summary>
    /// The progress steps of a run, as <see cref="GenerationProgress"/> counts them: <see cref="Batches"/> ×
    /// <see cref="Iterations"/>, or <see cref="Batches"/> for Gaussian noise (which has no iterations).
    /// </summary>
    public long ProgressSteps => Method == GenerationMethod.Gaussian ? Batches : (long)Batches * Iterations;

    /// <summary>Checks every value; throws <see cref="DsgException"/> <c>DSG0301</c> naming the option and its allowed range.</summary>
    public GenerationOptions Validate()
    {
        CheckRange(nameof(Samples), Samples, 1, 1_000_000);
        CheckRange(nameof(BatchSize), BatchSize, 1, 4096);
        CheckRange(nameof(Iterations), Iterations, 1, MaxIterations);
        CheckRange(nameof(Threads), Threads, 0, 1024);
        CheckRange(nameof(PlateauPatience), PlateauPatience, 0, 100_000);
        CheckRange(nameof(JitterPixels), JitterPixels, 0, 64);
        CheckRange(nameof(CanvasPixels), CanvasPixels, 0, 64);
        CheckRange(nameof(ProgressStride), ProgressStride, 1, 100_000);
        CheckRange(nameof(CurveStride), CurveStride, 1, 100_000);
        CheckOpenLow(nameof(LearningRate), LearningRate, 0, 100);
        CheckOpen(nameof(PlateauFactor), PlateauFactor, 0, 1);
        CheckClosed(nameof(MinLearningRate), MinLearningRate, 0, 10);
        CheckClosed(nameof(MarginQuantile), MarginQuantile, 0, 1);
        CheckClosed(nameof(EnhancementFactor), EnhancementFactor, 1, 100);
        CheckClosed(nameof(BatchNormWeight), BatchNormWeight, 0, 1e6);
        CheckClosed(nameof(PooledBatchNormWeight), PooledBatchNormWeight, 0, 1e6);
        CheckClosed(nameof(InputStatisticsWeight), InputStatisticsWeight, 0, 1e6);
        CheckClosed(nameof(CorrelationWeight), CorrelationWeight, 0, 1e6);
        CheckClosed(nameof(CrossEntropyWeight), CrossEntropyWeight, 0, 1e6);
        CheckClosed(nameof(TotalVariationWeight), TotalVariationWeight, 0, 1e6);
        CheckClosed(nameof(L2Weight), L2Weight, 0, 1e6);
        CheckClosed(nameof(SmoothingSigma), SmoothingSigma, 0, 10);
        if (!Enum.IsDefined(Method))
        {
            throw Bad(nameof(Method), Method.ToString(), "dsg, zeroq or gaussian");
        }

        if (!Enum.IsDefined(Optimizer))
        {
            throw Bad(nameof(Optimizer), Optimizer.ToString(), "Adam or RAdam");
        }

        if (!Enum.IsDefined(CorrelationForm))
        {
            throw Bad(nameof(CorrelationForm), CorrelationForm.ToString(), "OffDiagonalCosine or Gdpp");
        }

        if (OutputKind is { } kind && !Enum.IsDefined(kind))
        {
            throw Bad(nameof(OutputKind), kind.ToString(), "Logits, Probabilities, LogProbabilities, Embedding, Dense or null (detect)");
        }

        if (Device is not ("auto" or "cpu" or "cuda"))
        {
            throw Bad(nameof(Device), Device ?? "(null)", "auto, cpu or cuda");
        }

        if (Input is null)
        {
            throw Bad(nameof(Input), "(null)", "an input convention (InputConvention.Standard for N(0, 1))");
        }

        Input.Validate();

        return this;
    }

    private static void CheckRange(string name, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            throw Bad(name, value.ToString(CultureInfo.InvariantCulture), $"an integer from {min} to {max}");
        }
    }

    private static void CheckClosed(string name, double value, double min, double max)
    {
        if (!(value >= min && value <= max))
        {
            throw Bad(name, Format(value), $"a number from {Format(min)} to {Format(max)}");
        }
    }

    private static void CheckOpenLow(string name, double value, double min, double max)
    {
        if (!(value > min && value <= max))
        {
            throw Bad(name, Format(value), $"a number greater than {Format(min)} and at most {Format(max)}");
        }
    }

    private static void CheckOpen(string name, double value, double min, double max)
    {
        if (!(value > min && value < max))
        {
            throw Bad(name, Format(value), $"a number strictly between {Format(min)} and {Format(max)}");
        }
    }

    private static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    private static DsgException Bad(string name, string value, string allowed) =>
        new(ErrorCodes.BadOption, $"Generation option {name} is {value}; it must be {allowed}.",
            $"Set {name} to {allowed}.");
}
