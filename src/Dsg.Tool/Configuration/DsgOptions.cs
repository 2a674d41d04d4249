using System.Collections.Immutable;

namespace Dsg.Tool.Configuration;

/// <summary>
/// Every setting of a Dsg run, with its built-in default. The command line, <c>dsg.json</c>, <c>DSG_*</c>
/// environment variables and MSBuild item metadata all bind to this one record through <see cref="OptionCatalog"/>
/// (docs/configuration.md lists the mapping).
/// </summary>
internal sealed record DsgOptions
{
    /// <summary>The built-in defaults.</summary>
    public static DsgOptions Default { get; } = new();

    /// <summary>Weight and activation bit widths: W8A8, W6A6, W4A8 or W4A4.</summary>
    public string Precision { get; init; } = "W8A8";

    /// <summary>How calibration samples are made: dsg, zeroq or gaussian.</summary>
    public string Method { get; init; } = "dsg";

    /// <summary>Number of calibration samples; null (the default) lets <see cref="Budget"/> choose them for the model.</summary>
    public int? Samples { get; init; }

    /// <summary>The generation budget: fast, default or thorough (<see cref="Dsg.Core.Generation.GenerationBudget"/>).</summary>
    public string Budget { get; init; } = Dsg.Core.Generation.GenerationBudget.Default.Name;

    /// <summary>
    /// Held-out samples for the agreement check; null (the default) takes
    /// <see cref="Dsg.Core.Pipeline.QuantizeRequest.DefaultHeldOutSamples"/> of <see cref="Samples"/>.
    /// </summary>
    public int? HeldOutSamples { get; init; }

    /// <summary>
    /// The held-out samples a run uses: <see cref="HeldOutSamples"/>, or the default for <see cref="Samples"/>; null
    /// when both are left to the budget (the count then follows the samples the budget chooses for the model).
    /// </summary>
    public int? EffectiveHeldOutSamples => HeldOutSamples ?? (Samples is { } samples ? Dsg.Core.Pipeline.QuantizeRequest.DefaultHeldOutSamples(samples) : null);

    /// <summary>Samples optimised together.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Optimiser steps per batch; null (the default) lets <see cref="Budget"/> choose them for the model.</summary>
    public int? Iterations { get; init; }

    /// <summary>Random seed; the same seed, model and settings give the same samples on one machine.</summary>
    public int Seed { get; init; }

    /// <summary>auto, cpu or cuda.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>CPU threads for TorchSharp and ONNX Runtime; 0 uses every core.</summary>
    public int Threads { get; init; }

    /// <summary>The quantization recipe: default (deployable: 8-bit first/last layer, MSE ranges) or paper (every layer at the target width, min/max).</summary>
    public string Recipe { get; init; } = "default";

    /// <summary>Activation-range observer; null takes the recipe's (mse for default, minmax for paper).</summary>
    public string? Observer { get; init; }

    /// <summary>mse or minmax weight ranges; null takes the recipe's (mse for default, minmax for paper).</summary>
    public string? WeightRange { get; init; }

    /// <summary>8bit or target for the first and last weight layers; null takes the recipe's (8bit for default, target for paper).</summary>
    public string? FirstLastLayer { get; init; }

    /// <summary>8bit or target for the model input's quantization. Default 8bit.</summary>
    public string InputQuantization { get; init; } = "8bit";

    /// <summary>reduced or full: how 8-bit weights are stored. Default reduced.</summary>
    public string EightBitWeights { get; init; } = "reduced";

    /// <summary>none, adaround, brecq or qat: what is learned on the calibration samples before the model is written. Default none.</summary>
    public string Refine { get; init; } = "none";

    /// <summary>Optimiser steps per layer of the refinement.</summary>
    public int RefineIterations { get; init; } = Dsg.Core.Quantization.Refinement.AdaRoundSettings.DefaultIterations;

    /// <summary>
    /// DSG loss terms switched off (ablations), in canonical form: distinct, lower case, ordinally sorted names from
    /// <see cref="LossTermSettings.Terms"/>. Empty (the default) switches nothing off. Only method dsg uses them.
    /// </summary>
    public IReadOnlyList<string> Without { get; init; } = [];

    /// <summary>
    /// Loss-term weights given explicitly, by name from <see cref="LossTermSettings.WeightNames"/>; the others keep
    /// the generator's defaults (<see cref="Dsg.Core.Generation.GenerationOptions"/>). Empty by default.
    /// </summary>
    public IReadOnlyDictionary<string, double> TermWeights { get; init; } = ImmutableSortedDictionary<string, double>.Empty;

    /// <summary>
    /// What the model's first output holds: auto (detect it from the graph, probing where the graph leaves it open),
    /// logits, probabilities, embedding or dense. It chooses the class term and the agreement metric.
    /// </summary>
    public string OutputKind { get; init; } = "auto";

    /// <summary>A .npy file of real calibration images (N×C×H×W float32) used instead of synthetic samples.</summary>
    public string? CalibrationData { get; init; }

    /// <summary>The lowest acceptable agreement with the fp32 model (0..1; top-1 for class scores, mean cosine similarity otherwise); null disables the guard.</summary>
    public double? MinAgreement { get; init; }

    /// <summary>C,H,W for models whose spatial dimensions are dynamic.</summary>
    public IReadOnlyList<long>? InputShape { get; init; }

    /// <summary>Per-channel mean of the model's inputs in its input units (one value: every channel); null infers it from the model.</summary>
    public IReadOnlyList<double>? InputMean { get; init; }

    /// <summary>Per-channel standard deviation of the model's inputs (one value: every channel); null infers it from the model.</summary>
    public IReadOnlyList<double>? InputStd { get; init; }

    /// <summary>The interval every input value lies in; null when not declared.</summary>
    public Dsg.Core.Graph.InputRange? InputRange { get; init; }

    /// <summary>The most values a model input may declare (<see cref="Dsg.Core.Onnx.ModelLimits.MaxInputValues"/>).</summary>
    public long MaxInputValues { get; init; } = Dsg.Core.Onnx.ModelLimits.Default.MaxInputValues;

    /// <summary>The most nodes a model's graph may have (<see cref="Dsg.Core.Onnx.ModelLimits.MaxNodes"/>).</summary>
    public long MaxNodes { get; init; } = Dsg.Core.Onnx.ModelLimits.Default.MaxNodes;

    /// <summary>The most bytes a model's tensors may hold (<see cref="Dsg.Core.Onnx.ModelLimits.MaxModelBytes"/>).</summary>
    public long MaxModelSize { get; init; } = Dsg.Core.Onnx.ModelLimits.Default.MaxModelBytes;

    /// <summary>The limits on declared sizes every verb checks when it loads a model.</summary>
    public Dsg.Core.Onnx.ModelLimits Limits => new() { MaxInputValues = MaxInputValues, MaxNodes = MaxNodes, MaxModelBytes = MaxModelSize };

    /// <summary>The cache folder; null uses the per-user default.</summary>
    public string? CacheDir { get; init; }

    /// <summary>Bypass the cache: always produce, never store.</summary>
    public bool NoCache { get; init; }

    /// <summary>The cache's size bound in bytes.</summary>
    public long CacheSizeLimit { get; init; } = Dsg.Core.Caching.ArtifactCache.DefaultSizeLimitBytes;

    /// <summary>How long to wait for another process producing the same cache entry, in seconds.</summary>
    public int CacheLockTimeout { get; init; } = 7200;

    /// <summary>The remote cache's URL (a WebDAV folder; normalised to end with '/'); null: no remote cache.</summary>
    public string? RemoteCache { get; init; }

    /// <summary>Whether runs upload to the remote cache (readwrite) or only download from it (read).</summary>
    public Dsg.Core.Caching.RemoteCacheMode RemoteCacheMode { get; init; } = Dsg.Core.Caching.RemoteCacheMode.ReadWrite;

    /// <summary>The name of the environment variable that holds the remote cache's Authorization header value; null: no header.</summary>
    public string? RemoteCacheAuthVariable { get; init; }

    /// <summary>Seconds a remote-cache request may go without progress before the attempt fails.</summary>
    public int RemoteCacheTimeout { get; init; } = 30;

    /// <summary>Further attempts after a remote-cache request failed with a network error, a timeout, 408, 429 or 5xx.</summary>
    public int RemoteCacheRetries { get; init; } = 2;
}
