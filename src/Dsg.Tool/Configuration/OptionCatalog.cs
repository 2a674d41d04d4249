using System.Globalization;
using Dsg.Core.Caching;

namespace Dsg.Tool.Configuration;

/// <summary>The table of every setting: its names in each source, its parser and whether it affects the output.</summary>
internal static class OptionCatalog
{
    /// <summary>Accepted precisions.</summary>
    public static readonly string[] Precisions = ["W8A8", "W6A6", "W4A8", "W4A4"];

    /// <summary>Accepted sample-generation methods.</summary>
    public static readonly string[] Methods = ["dsg", "zeroq", "gaussian"];

    /// <summary>Accepted devices.</summary>
    public static readonly string[] Devices = ["auto", "cpu", "cuda"];

    /// <summary>Accepted quantization recipes.</summary>
    public static readonly string[] Recipes = ["default", "paper"];

    /// <summary>Accepted activation observers.</summary>
    public static readonly string[] Observers = ["minmax", "percentile", "mse", "entropy", "ema"];

    /// <summary>Accepted weight-range methods.</summary>
    public static readonly string[] WeightRanges = ["mse", "minmax"];

    /// <summary>Accepted widths for the first/last layers and the model input.</summary>
    public static readonly string[] LayerWidths = ["8bit", "target"];

    /// <summary>Accepted output kinds (the first, auto, detects the kind and is the default).</summary>
    public static readonly string[] OutputKinds = [.. Dsg.Core.Graph.OutputKindDetector.RequestableNames];

    /// <summary>Accepted refinements (the first is the default).</summary>
    public static readonly string[] Refinements = [.. Dsg.Core.Quantization.QuantizationOptions.RefinementNames];

    /// <summary>Accepted storages of 8-bit weights (the first is the default).</summary>
    public static readonly string[] EightBitWeightStorages = ["reduced", "full"];

    public static OptionDefinition Precision { get; } = Choice(nameof(DsgOptions.Precision),
        "Weight and activation bit widths.", Precisions, o => o.Precision, (o, v) => o with { Precision = v }, upper: true);

    public static OptionDefinition Method { get; } = Choice(nameof(DsgOptions.Method),
        "How calibration samples are synthesised: dsg (Diverse Sample Generation), zeroq (batch-statistics baseline) or gaussian (noise).",
        Methods, o => o.Method, (o, v) => o with { Method = v });

    /// <summary>Accepted generation budgets (<see cref="Dsg.Core.Generation.GenerationBudget"/>).</summary>
    public static readonly string[] Budgets = [.. Dsg.Core.Generation.GenerationBudget.Names];

    public static OptionDefinition Samples { get; } = OptionalInt(nameof(DsgOptions.Samples),
        "Number of calibration samples. Unset: the budget chooses (256 on small models, fewer on large ones).", 1, 1_000_000,
        o => o.Samples, (o, v) => o with { Samples = v }, "256");

    public static OptionDefinition Budget { get; } = Choice(nameof(DsgOptions.Budget),
        "Generation budget for the samples and iterations not given: fast, default or thorough. Each caps the samples, the iterations and the work they cost on the model (multiply-accumulates per sample), cutting samples first, then iterations (docs/performance.md).",
        Budgets, o => o.Budget, (o, v) => o with { Budget = v });

    public static OptionDefinition HeldOutSamples { get; } = new(nameof(DsgOptions.HeldOutSamples),
        "Held-out samples for the agreement check (generated like the calibration samples with seed + 1, never calibrated on; with --calibration-data taken from the file). Unset: a quarter of --samples, at least 16 and at most 64 (64 for the default 256).",
        $"an integer from 1 to {Dsg.Core.Pipeline.QuantizeRequest.MaxHeldOutSamples}, or empty for the default", affectsOutput: true,
        // The effective value, so the cache key and config show do not depend on whether the default was spelled out.
        o => o.EffectiveHeldOutSamples?.ToString(CultureInfo.InvariantCulture),
        (o, text, _) =>
        {
            if (text.Length == 0)
            {
                return o with { HeldOutSamples = null };
            }

            return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v is >= 1 and <= Dsg.Core.Pipeline.QuantizeRequest.MaxHeldOutSamples
                ? o with { HeldOutSamples = v }
                : null;
        },
        "32");

    public static OptionDefinition BatchSize { get; } = Int(nameof(DsgOptions.BatchSize),
        "Samples optimised together (also the batch of inspect --verify).", 1, 4096, o => o.BatchSize, (o, v) => o with { BatchSize = v }, "64");

    public static OptionDefinition Iterations { get; } = OptionalInt(nameof(DsgOptions.Iterations),
        "Optimiser steps per batch. Unset: the budget chooses (500 on small models, fewer on large ones).", 1, Dsg.Core.Generation.GenerationOptions.MaxIterations,
        o => o.Iterations, (o, v) => o with { Iterations = v }, "500");

    public static OptionDefinition Seed { get; } = Int(nameof(DsgOptions.Seed),
        "Random seed.", 0, int.MaxValue, o => o.Seed, (o, v) => o with { Seed = v }, "42");

    public static OptionDefinition Device { get; } = Choice(nameof(DsgOptions.Device),
        "Where generation runs: auto (CUDA when TorchSharp finds it, else CPU), cpu or cuda.", Devices, o => o.Device, (o, v) => o with { Device = v });

    public static OptionDefinition Threads { get; } = Int(nameof(DsgOptions.Threads),
        "CPU threads for TorchSharp and ONNX Runtime; 0 uses every core.", 0, 1024, o => o.Threads, (o, v) => o with { Threads = v }, "2", affectsOutput: false);

    public static OptionDefinition Recipe { get; } = Choice(nameof(DsgOptions.Recipe),
        "Quantization recipe: default (first and last layer at 8 bits, MSE weight and activation ranges) or paper (every layer at the target width, min/max ranges, as in the DSG paper).",
        Recipes, o => o.Recipe, (o, v) => o with { Recipe = v });

    public static OptionDefinition Observer { get; } = OptionalChoice(nameof(DsgOptions.Observer),
        "Activation-range observer used in calibration; unset takes the recipe's (mse for default, minmax for paper).",
        Observers, o => o.Observer, (o, v) => o with { Observer = v }, "percentile");

    public static OptionDefinition WeightRange { get; } = OptionalChoice(nameof(DsgOptions.WeightRange),
        "How per-channel weight ranges are chosen: mse (clipping search) or minmax; unset takes the recipe's (mse for default, minmax for paper).",
        WeightRanges, o => o.WeightRange, (o, v) => o with { WeightRange = v }, "minmax");

    public static OptionDefinition FirstLastLayer { get; } = OptionalChoice(nameof(DsgOptions.FirstLastLayer),
        "Precision of the first and last weight layers: 8bit or target (the chosen widths); unset takes the recipe's (8bit for default, target for paper).",
        LayerWidths, o => o.FirstLastLayer, (o, v) => o with { FirstLastLayer = v }, "target");

    public static OptionDefinition InputQuantization { get; } = Choice(nameof(DsgOptions.InputQuantization),
        "Width of the model input's quantization: 8bit (default; the image data, which ZeroQ and DSG leave in float) or target (the activation width).",
        LayerWidths, o => o.InputQuantization, (o, v) => o with { InputQuantization = v });

    public static OptionDefinition EightBitWeights { get; } = Choice(nameof(DsgOptions.EightBitWeights),
        "Storage of 8-bit weights: reduced (default; int8 on the 7-bit range, ONNX Runtime's fast U8S8 kernels without int16 saturation) or full (the whole 8-bit range as uint8, exact but slower U8U8 kernels on CPUs without VNNI).",
        EightBitWeightStorages, o => o.EightBitWeights, (o, v) => o with { EightBitWeights = v });

    public static OptionDefinition Refine { get; } = Choice(nameof(DsgOptions.Refine),
        "What is learned on the calibration samples before the model is written: none (default; weights rounded to nearest) adaround (AdaRound: layer by layer, each weight's rounding up or down is learned so the layer, fed by the model quantized so far, reproduces the fp32 layer's output; same scales, new integers) or brecq (BRECQ with QDrop: block by block, the rounding of every weight in a residual block and the step size of every activation it quantizes are learned together so the block reproduces the fp32 block's output) or qat (the DSG paper's fine-tuning: the fp32 model teaches the fake-quantized model, weights and activation step sizes learned on the calibration samples, shifted and flipped at random).",
        Refinements, o => o.Refine, (o, v) => o with { Refine = v });

    public static OptionDefinition RefineIterations { get; } = Int(nameof(DsgOptions.RefineIterations),
        "Optimiser steps per layer (--refine adaround), per block (--refine brecq) or in all (--refine qat) of the refinement; ignored with --refine none.", 1, Dsg.Core.Quantization.Refinement.AdaRoundSettings.MaxIterations,
        o => o.RefineIterations, (o, v) => o with { RefineIterations = v }, "1000");

    public static OptionDefinition Without { get; } = new(nameof(DsgOptions.Without),
        "DSG loss terms to switch off (ablations; method dsg only, ignored by zeroq and gaussian): slack (per-sample margins, i.e. exact per-sample alignment), lse (Layerwise Sample Enhancement), sci (Sample Correlation Inhibition), input-stats (the input-statistics term), class (the random-label cross-entropy), priors (jitter and the total-variation and L2 priors), smoothing (the 3x3 Gaussian smoothing of the images before each forward pass).",
        $"{LossTermSettings.None} or a comma-separated list of {string.Join(", ", LossTermSettings.Terms)} (any case)", affectsOutput: true,
        o => LossTermSettings.FormatWithout(o.Without),
        (o, text, _) => LossTermSettings.ParseWithout(text) is { } terms ? o with { Without = terms } : null,
        "sci,class");

    public static OptionDefinition TermWeights { get; } = new(nameof(DsgOptions.TermWeights),
        "Loss-term weights: bn (BatchNorm statistics: SDA for dsg, batch alignment for zeroq), bn-batch (dsg: the whole batch's BatchNorm statistics, beside SDA), input-stats (input statistics; dsg and zeroq), sci (Sample Correlation Inhibition), class (random-label cross-entropy), tv (total-variation prior), l2 (L2 prior); bn-batch, sci, class, tv and l2 only matter for dsg. Names not given keep the generator's defaults.",
        $"comma-separated NAME=VALUE pairs, NAME one of {string.Join(", ", LossTermSettings.WeightNames)} (each at most once), VALUE a number from 0 to 1e6",
        affectsOutput: true,
        o => LossTermSettings.FormatWeights(o.TermWeights),
        (o, text, _) => LossTermSettings.ParseWeights(text) is { } weights ? o with { TermWeights = weights } : null,
        "bn=2,class=0.5");

    public static OptionDefinition OutputKind { get; } = Choice(nameof(DsgOptions.OutputKind),
        "What the model's first output holds: auto (detected from the graph: Softmax gives probabilities, a classifier layer logits, a feature vector an embedding, an N x K x H x W map dense), or one of logits, probabilities, embedding, dense to override it. Class scores (logits, probabilities) get the class term (cross-entropy, or NLL on log-probabilities) and top-1 agreement; embeddings and dense maps get no class term (with a warning) and the mean cosine similarity of the outputs. logits or probabilities on an output that is not N x K fails with DSG0601.",
        OutputKinds, o => o.OutputKind, (o, v) => o with { OutputKind = v });

    public static OptionDefinition CalibrationData { get; } = new(nameof(DsgOptions.CalibrationData),
        "A .npy file of real calibration images (N x C x H x W float32, preprocessed like the model's input), used instead of synthetic samples. Its content, not its path, enters the cache key.",
        "a path to an existing .npy file (relative paths resolve against the dsg.json folder or the current folder)", affectsOutput: true,
        o => o.CalibrationData,
        (o, text, baseDir) =>
        {
            if (text.Length == 0)
            {
                return o with { CalibrationData = null };
            }

            var full = Path.GetFullPath(text, baseDir);
            return File.Exists(full) ? o with { CalibrationData = full } : null;
        },
        "data/calibration.npy");

    public static OptionDefinition MinAgreement { get; } = new(nameof(DsgOptions.MinAgreement),
        "Fail (DSG0720) when the quantized model's agreement with fp32 on held-out synthetic samples is below this: top-1 agreement when the output holds class scores (logits, probabilities), the mean cosine similarity of the outputs otherwise (embedding, dense).",
        "a number from 0 to 1, or empty to disable", affectsOutput: false,
        o => o.MinAgreement?.ToString("R", CultureInfo.InvariantCulture),
        (o, text, _) =>
        {
            if (text.Length == 0)
            {
                return o with { MinAgreement = null };
            }

            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v is >= 0 and <= 1
                ? o with { MinAgreement = v }
                : null;
        },
        "0.95");

    public static OptionDefinition InputShape { get; } = new(nameof(DsgOptions.InputShape),
        "The input's C,H,W, for models whose spatial dimensions are dynamic.",
        "three positive integers C,H,W (for example 3,224,224; 3x224x224 also reads)", affectsOutput: true,
        o => o.InputShape is null ? null : string.Join(",", o.InputShape),
        (o, text, _) =>
        {
            if (text.Length == 0)
            {
                return o with { InputShape = null };
            }

            var parts = text.Split([',', 'x', 'X'], StringSplitOptions.TrimEntries);
            var dims = new List<long>();
            foreach (var part in parts)
            {
                if (!long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var d) || d <= 0)
                {
                    return null;
                }

                dims.Add(d);
            }

            return dims.Count == 3 ? o with { InputShape = dims } : null;
        },
        "3,224,224");

    public static OptionDefinition InputMean { get; } = new(nameof(DsgOptions.InputMean),
        "Per-channel mean of the inputs the model was trained on, in its input units (0 for torchvision-normalised inputs, about 120 for raw [0, 255] pixels); one value applies to every channel. Unset: inferred from the first Conv and its BatchNorm (N(0, 1) assumed when that fails; `dotnet dsg inspect` shows it). Samples are drawn and optimised in this space.",
        "one number, or one per input channel, comma-separated (for example 123.7,116.3,103.5)", affectsOutput: true,
        o => FormatNumbers(o.InputMean),
        (o, text, _) => text.Length == 0 ? o with { InputMean = null } : ParseNumbers(text, positive: false) is { } values ? o with { InputMean = values } : null,
        "123.7,116.3,103.5");

    public static OptionDefinition InputStd { get; } = new(nameof(DsgOptions.InputStd),
        "Per-channel standard deviation of the model's inputs, in its input units (1 for torchvision-normalised inputs, about 60 for raw [0, 255] pixels); one value applies to every channel. Unset: inferred like the mean.",
        "one positive number, or one per input channel, comma-separated (for example 58.4,57.1,57.4)", affectsOutput: true,
        o => FormatNumbers(o.InputStd),
        (o, text, _) => text.Length == 0 ? o with { InputStd = null } : ParseNumbers(text, positive: true) is { } values ? o with { InputStd = values } : null,
        "58.4,57.1,57.4");

    public static OptionDefinition InputRange { get; } = new(nameof(DsgOptions.InputRange),
        "The interval every model input value lies in (for example 0,255 or 0,1): samples are kept inside it. Given alone, it clamps the inferred mean and std into it (or, when nothing is inferred, sets mean (MIN+MAX)/2 and std (MAX-MIN)/4).",
        "MIN,MAX: two numbers with MIN < MAX (for example 0,255)", affectsOutput: true,
        o => o.InputRange is { } r ? FormatNumbers([r.Min, r.Max]) : null,
        (o, text, _) =>
        {
            if (text.Length == 0)
            {
                return o with { InputRange = null };
            }

            return ParseNumbers(text, positive: false) is [var min, var max] && min < max ? o with { InputRange = new Dsg.Core.Graph.InputRange(min, max) } : null;
        },
        "0,255");

    public static OptionDefinition MaxInputValues { get; } = Long(nameof(DsgOptions.MaxInputValues),
        "The most values a model input may declare: its static dimensions multiplied (batch x channels x height x width; a dynamic batch counts as one sample), and one sample of --input-shape. A model past it is refused when it loads (DSG0109), before any work.",
        o => o.MaxInputValues, (o, v) => o with { MaxInputValues = v }, "50331648");

    public static OptionDefinition MaxNodes { get; } = Long(nameof(DsgOptions.MaxNodes),
        "The most nodes a model's graph (with its sub-graphs) may have; a model past it is refused when it loads (DSG0110), before any work.",
        o => o.MaxNodes, (o, v) => o with { MaxNodes = v }, "500000");

    public static OptionDefinition MaxModelSize { get; } = new(nameof(DsgOptions.MaxModelSize),
        "The most bytes a model's tensors (initializers, Constant values, external data) may hold; a model past it is refused when it loads (DSG0111), before anything is read or run.",
        "a positive size such as 8GB, 500MB or a byte count", affectsOutput: false,
        o => ByteSize.Format(o.MaxModelSize).Replace(" ", ""),
        (o, text, _) => ByteSize.TryParse(text, out var bytes) && bytes >= 1 ? o with { MaxModelSize = bytes } : null,
        "8GB");

    public static OptionDefinition CacheDir { get; } = new(nameof(DsgOptions.CacheDir),
        "The cache folder (default: $XDG_CACHE_HOME/dsg or ~/.cache/dsg; %LOCALAPPDATA%\\dsg\\cache on Windows).",
        "a folder path (relative paths resolve against the dsg.json folder or the current folder)", affectsOutput: false,
        o => o.CacheDir,
        (o, text, baseDir) => o with { CacheDir = text.Length == 0 ? null : Path.GetFullPath(text, baseDir) },
        "/var/cache/dsg");

    public static OptionDefinition NoCache { get; } = new(nameof(DsgOptions.NoCache),
        "Bypass the cache: always produce, never read or store an entry.",
        "true or false", affectsOutput: false,
        o => o.NoCache ? "true" : "false",
        (o, text, _) => bool.TryParse(text, out var v) ? o with { NoCache = v } : null,
        "true") { IsFlag = true };

    public static OptionDefinition CacheSizeLimit { get; } = new(nameof(DsgOptions.CacheSizeLimit),
        "The cache's size bound; least-recently-used entries are pruned beyond it.",
        "a size such as 2GB, 500MB or a byte count", affectsOutput: false,
        o => ByteSize.Format(o.CacheSizeLimit).Replace(" ", ""),
        (o, text, _) => ByteSize.TryParse(text, out var bytes) ? o with { CacheSizeLimit = bytes } : null,
        "5GB");

    public static OptionDefinition CacheLockTimeout { get; } = Int(nameof(DsgOptions.CacheLockTimeout),
        "Seconds to wait for another process producing the same cache entry before failing (DSG0802).", 0, int.MaxValue,
        o => o.CacheLockTimeout, (o, v) => o with { CacheLockTimeout = v }, "600", affectsOutput: false);

    public static OptionDefinition RemoteCache { get; } = new(nameof(DsgOptions.RemoteCache),
        "A shared cache behind the local one: a WebDAV folder (nginx with dav_methods, Apache mod_dav) that holds one archive per entry. A local miss downloads URL/KEY and verifies it against its recorded SHA-256s; a miss there is produced, stored locally and, in readwrite mode, uploaded (PUT to a temporary name, then MOVE). A remote that is down, slow or refuses is one warning and the run goes on locally. Empty: no remote cache.",
        "an absolute http:// or https:// URL without user:password@, query or fragment (credentials go in --remote-cache-auth-variable), or empty for none", affectsOutput: false,
        o => o.RemoteCache,
        (o, text, _) => text.Length == 0 ? o with { RemoteCache = null }
            : RemoteCacheSettings.ParseBaseUri(text) is { } uri ? o with { RemoteCache = uri.AbsoluteUri } : null,
        "https://cache.example.com/dsg/");

    public static OptionDefinition RemoteCacheMode { get; } = new(nameof(DsgOptions.RemoteCacheMode),
        "readwrite: download on a local miss and upload what the run produces; read: download only, never upload (pull-request builds, developer machines).",
        string.Join(", ", RemoteCacheModes.Names), affectsOutput: false,
        o => RemoteCacheModes.Name(o.RemoteCacheMode),
        (o, text, _) => RemoteCacheModes.Parse(text) is { } mode ? o with { RemoteCacheMode = mode } : null,
        "read");

    public static OptionDefinition RemoteCacheAuthVariable { get; } = new(nameof(DsgOptions.RemoteCacheAuthVariable),
        "The name of an environment variable whose value is sent as the remote cache's Authorization header (for example 'Bearer TOKEN' or 'Basic BASE64'). The secret itself is never a setting, never read from a file and never printed; an unset or empty variable is warning DSG0813 and requests go without the header. Empty: no header.",
        "an environment variable name (letters, digits and _, not starting with a digit), or empty for none", affectsOutput: false,
        o => o.RemoteCacheAuthVariable,
        (o, text, _) => text.Length == 0 ? o with { RemoteCacheAuthVariable = null }
            : RemoteCacheSettings.IsVariableName(text) ? o with { RemoteCacheAuthVariable = text } : null,
        "CACHE_AUTHORIZATION");

    public static OptionDefinition RemoteCacheTimeout { get; } = Int(nameof(DsgOptions.RemoteCacheTimeout),
        "Seconds a remote-cache request may go without progress (connecting, waiting for the answer, or between chunks of a transfer) before the attempt counts as failed.",
        1, 3600, o => o.RemoteCacheTimeout, (o, v) => o with { RemoteCacheTimeout = v }, "120", affectsOutput: false);

    public static OptionDefinition RemoteCacheRetries { get; } = Int(nameof(DsgOptions.RemoteCacheRetries),
        "Further attempts after a remote-cache request fails with a network error, a timeout, 408, 429 or 5xx (0.2 s, 0.4 s, 0.8 s ... apart); after the last, the run warns once (DSG0810) and goes on with the local cache only.",
        0, 10, o => o.RemoteCacheRetries, (o, v) => o with { RemoteCacheRetries = v }, "5", affectsOutput: false);

    /// <summary>Every setting, in the order docs and <c>config show</c> list them.</summary>
    public static IReadOnlyList<OptionDefinition> All { get; } =
    [
        Precision, Method, Budget, Samples, HeldOutSamples, BatchSize, Iterations, Seed, Device, Threads, Without, TermWeights, OutputKind, Recipe, Observer, WeightRange, FirstLastLayer, InputQuantization, EightBitWeights,
        Refine, RefineIterations, CalibrationData, MinAgreement,
        InputShape, InputMean, InputStd, InputRange, MaxInputValues, MaxNodes, MaxModelSize, CacheDir, NoCache, CacheSizeLimit, CacheLockTimeout,
        RemoteCache, RemoteCacheMode, RemoteCacheAuthVariable, RemoteCacheTimeout, RemoteCacheRetries,
    ];

    /// <summary>The limits on a model's declared sizes, which every verb that loads a model checks.</summary>
    public static IReadOnlyList<OptionDefinition> Limits { get; } = [MaxInputValues, MaxNodes, MaxModelSize];

    /// <summary>The settings of the model's input convention.</summary>
    public static IReadOnlyList<OptionDefinition> InputConvention { get; } = [InputMean, InputStd, InputRange];

    /// <summary>Settings of the cache.</summary>
    public static IReadOnlyList<OptionDefinition> Cache { get; } = [CacheDir, CacheSizeLimit, CacheLockTimeout];

    /// <summary>Settings of the remote cache.</summary>
    public static IReadOnlyList<OptionDefinition> Remote { get; } = [RemoteCache, RemoteCacheMode, RemoteCacheAuthVariable, RemoteCacheTimeout, RemoteCacheRetries];

    /// <summary>
    /// Settings of a whole build rather than of one model: under MSBuild they are project properties (DsgCacheDir,
    /// DsgNoCache, DsgRemoteCache...), not <c>DsgQuantize</c> metadata.
    /// </summary>
    public static IReadOnlyList<OptionDefinition> BuildWide { get; } = [.. Cache, NoCache, .. Remote];

    /// <summary>Finds a setting by its dsg.json key or property name, ignoring case.</summary>
    public static OptionDefinition? FindByConfigKey(string key) =>
        All.FirstOrDefault(d => string.Equals(d.ConfigKey, key, StringComparison.OrdinalIgnoreCase));

    /// <summary>Finds a setting by its record property (MSBuild metadata) name, ignoring case.</summary>
    public static OptionDefinition? FindByName(string name) =>
        All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// <paramref name="text"/> with each setting's flag followed by its MSBuild metadata name, e.g.
    /// <c>--samples (MSBuild: Samples)</c>, for messages an MSBuild build shows; a setting the package sets through a
    /// project property names the property instead (<c>--remote-cache (MSBuild: DsgRemoteCache)</c>). Other flags are left alone.
    /// </summary>
    public static string WithMetadataNames(string text) =>
        System.Text.RegularExpressions.Regex.Replace(text, @"(?<![\w-])--[a-z][a-z0-9-]*(?![\w-])(?! \(MSBuild)", match =>
            All.FirstOrDefault(d => d.Flag == match.Value) is { } definition
                ? $"{match.Value} (MSBuild: {(MsBuildProperties.Contains(definition) ? "Dsg" + definition.Name : definition.Name)})"
                : match.Value);

    /// <summary>Settings the Dsg.Build package takes as project properties named Dsg + Name (build/Dsg.Build.props), not as item metadata.</summary>
    public static IReadOnlyList<OptionDefinition> MsBuildProperties { get; } = [CacheDir, NoCache, .. Remote];

    /// <summary>Finds a setting by its environment variable, ignoring case.</summary>
    public static OptionDefinition? FindByEnvironmentVariable(string name) =>
        All.FirstOrDefault(d => string.Equals(d.EnvironmentVariable, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Comma-separated finite numbers (invariant culture; positive ones when asked); null when any part is not.</summary>
    private static double[]? ParseNumbers(string text, bool positive)
    {
        var values = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v) || (positive && !(v > 0)))
            {
                return null;
            }

            values.Add(v);
        }

        return values.ToArray();
    }

    private static string? FormatNumbers(IReadOnlyList<double>? values) =>
        values is null ? null : string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    private static OptionDefinition Int(string name, string description, int min, int max,
        Func<DsgOptions, int> get, Func<DsgOptions, int, DsgOptions> set, string example, bool affectsOutput = true) =>
        new(name, description, max == int.MaxValue ? $"an integer >= {min}" : $"an integer from {min} to {max}", affectsOutput,
            o => get(o).ToString(CultureInfo.InvariantCulture),
            (o, text, _) => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max ? set(o, v) : null,
            example);

    /// <summary>A positive 64-bit integer (a limit); it never changes the output, only whether a model is accepted.</summary>
    private static OptionDefinition Long(string name, string description,
        Func<DsgOptions, long> get, Func<DsgOptions, long, DsgOptions> set, string example) =>
        new(name, description, "a positive integer", affectsOutput: false,
            o => get(o).ToString(CultureInfo.InvariantCulture),
            (o, text, _) => long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= 1 ? set(o, v) : null,
            example);

    /// <summary>An integer that may be unset (empty text), which leaves it to a rule (the budget).</summary>
    private static OptionDefinition OptionalInt(string name, string description, int min, int max,
        Func<DsgOptions, int?> get, Func<DsgOptions, int?, DsgOptions> set, string example) =>
        new(name, description, $"an integer from {min} to {max}, or empty for the default", affectsOutput: true,
            o => get(o)?.ToString(CultureInfo.InvariantCulture),
            (o, text, _) => text.Length == 0 ? set(o, null)
                : int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max ? set(o, v) : null,
            example);

    /// <summary>A choice that may be unset (empty text), which leaves it to the recipe.</summary>
    private static OptionDefinition OptionalChoice(string name, string description, string[] values,
        Func<DsgOptions, string?> get, Func<DsgOptions, string?, DsgOptions> set, string example) =>
        new(name, description, string.Join(", ", values), affectsOutput: true,
            o => get(o),
            (o, text, _) =>
            {
                if (text.Length == 0)
                {
                    return set(o, null);
                }

                var match = values.FirstOrDefault(v => string.Equals(v, text, StringComparison.OrdinalIgnoreCase));
                return match is null ? null : set(o, match);
            },
            example);

    private static OptionDefinition Choice(string name, string description, string[] values,
        Func<DsgOptions, string> get, Func<DsgOptions, string, DsgOptions> set, bool upper = false) =>
        new(name, description, string.Join(", ", values), affectsOutput: true,
            o => get(o),
            (o, text, _) =>
            {
                var match = values.FirstOrDefault(v => string.Equals(v, text, StringComparison.OrdinalIgnoreCase));
                return match is null ? null : set(o, match);
            },
            upper ? values[0] : values[^1]);
}
