using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.Build.Framework;

namespace Dsg.Build.Tasks;

/// <summary>
/// The metadata of one <c>DsgQuantize</c> item, validated and normalised. It yields the tool's command-line
/// options, the normalised option lines whose file is an input of the incremental target, and where the output goes.
/// Empty metadata means "the tool's default", so the defaults live in one place: the tool. The accepted values and
/// ranges mirror the tool's option catalog, so a mistake is reported on the project before any process starts.
/// </summary>
internal sealed class QuantizeSettings
{
    /// <summary>Accepted <c>Precision</c> values.</summary>
    public static readonly string[] Precisions = { "W8A8", "W6A6", "W4A8", "W4A4" };

    /// <summary>Accepted <c>Method</c> values.</summary>
    public static readonly string[] Methods = { "dsg", "zeroq", "gaussian" };

    /// <summary>Accepted <c>Budget</c> values.</summary>
    public static readonly string[] Budgets = { "fast", "default", "thorough" };

    /// <summary>Accepted <c>Device</c> values.</summary>
    public static readonly string[] Devices = { "auto", "cpu", "cuda" };

    /// <summary>Accepted <c>Recipe</c> values.</summary>
    public static readonly string[] Recipes = { "default", "paper" };

    /// <summary>Accepted <c>Observer</c> values.</summary>
    public static readonly string[] Observers = { "minmax", "percentile", "mse", "entropy", "ema" };

    /// <summary>Accepted <c>WeightRange</c> values.</summary>
    public static readonly string[] WeightRanges = { "mse", "minmax" };

    /// <summary>Accepted <c>FirstLastLayer</c> and <c>InputQuantization</c> values.</summary>
    public static readonly string[] LayerWidths = { "8bit", "target" };

    /// <summary>Accepted <c>EightBitWeights</c> values.</summary>
    public static readonly string[] EightBitWeightStorages = { "reduced", "full" };

    /// <summary>Accepted <c>OutputKind</c> values (<c>auto</c> detects the kind).</summary>
    public static readonly string[] OutputKinds = { "auto", "logits", "probabilities", "embedding", "dense" };

    /// <summary>Accepted <c>Without</c> terms (DSG loss terms to switch off), in the tool's canonical order.</summary>
    public static readonly string[] Terms = { "class", "input-stats", "lse", "priors", "sci", "slack" };

    /// <summary>Accepted names in <c>TermWeights</c>, in the tool's canonical order.</summary>
    public static readonly string[] WeightNames = { "bn", "class", "input-stats", "l2", "sci", "tv" };

    /// <summary>The largest loss-term weight the tool accepts.</summary>
    private const double MaxWeight = 1e6;

    private readonly List<KeyValuePair<string, string>> _options = new();
    private string? _threads;

    private QuantizeSettings(ITaskItem item, string modelPath)
    {
        Item = item;
        ModelPath = modelPath;
    }

    /// <summary>The item the settings came from.</summary>
    public ITaskItem Item { get; }

    /// <summary>Full path of the fp32 model.</summary>
    public string ModelPath { get; }

    /// <summary>The precision preset, upper case.</summary>
    public string Precision { get; private set; } = "W8A8";

    /// <summary>The output file name, e.g. <c>resnet.int8.onnx</c>.</summary>
    public string OutputName { get; private set; } = string.Empty;

    /// <summary>Where the output goes relative to the output folder (and under the intermediate folder).</summary>
    public string Link { get; private set; } = string.Empty;

    /// <summary>True to embed the output as a resource instead of copying it to the output folder.</summary>
    public bool Embed { get; private set; }

    /// <summary>The manifest resource name when <see cref="Embed"/> is true.</summary>
    public string LogicalName { get; private set; } = string.Empty;

    /// <summary>Files whose content changes the output (calibration data), beyond the model and the options.</summary>
    public IReadOnlyList<string> ExtraInputs { get; private set; } = Array.Empty<string>();

    /// <summary>Options that change the output, one <c>name=value</c> line each, in a fixed order.</summary>
    public IReadOnlyList<string> NormalizedOptions => _options.Select(o => o.Key + "=" + o.Value).ToList();

    /// <summary>
    /// Reads an item. Problems (metadata name, message) are added to <paramref name="problems"/>; the result is
    /// usable only when none were added.
    /// </summary>
    public static QuantizeSettings Read(ITaskItem item, string projectDirectory, ICollection<KeyValuePair<string, string>> problems)
    {
        string modelPath = Path.GetFullPath(Path.Combine(projectDirectory, item.ItemSpec));
        var s = new QuantizeSettings(item, modelPath);
        s.ReadMetadata(projectDirectory, problems);
        return s;
    }

    /// <summary>The tool's options for this item as (switch, value) pairs, e.g. (<c>--samples</c>, <c>32</c>).</summary>
    public IEnumerable<KeyValuePair<string, string>> ToolOptions()
    {
        foreach (var option in _options)
        {
            yield return new KeyValuePair<string, string>("--" + option.Key, option.Value);
        }

        if (_threads != null)
        {
            yield return new KeyValuePair<string, string>("--threads", _threads);
        }
    }

    private void ReadMetadata(string projectDirectory, ICollection<KeyValuePair<string, string>> problems)
    {
        Precision = Choice("Precision", Precisions, problems) ?? "W8A8";
        Add("precision", Precision);
        Add("method", Choice("Method", Methods, problems));
        Add("budget", Choice("Budget", Budgets, problems));
        Add("samples", WholeNumber("Samples", 1, 1_000_000, problems));
        Add("held-out-samples", WholeNumber("HeldOutSamples", 1, 100_000, problems));
        Add("iterations", WholeNumber("Iterations", 1, 100_000, problems));
        Add("batch-size", WholeNumber("BatchSize", 1, 4096, problems));
        Add("seed", WholeNumber("Seed", 0, int.MaxValue, problems));
        Add("device", Choice("Device", Devices, problems));
        Add("without", Without(problems));
        Add("term-weights", TermWeights(problems));
        Add("output-kind", Choice("OutputKind", OutputKinds, problems));
        Add("recipe", Choice("Recipe", Recipes, problems));
        Add("observer", Choice("Observer", Observers, problems));
        Add("weight-range", Choice("WeightRange", WeightRanges, problems));
        Add("first-last-layer", Choice("FirstLastLayer", LayerWidths, problems));
        Add("input-quantization", Choice("InputQuantization", LayerWidths, problems));
        Add("eight-bit-weights", Choice("EightBitWeights", EightBitWeightStorages, problems));
        Add("input-shape", InputShape(problems));
        Add("input-mean", Numbers("InputMean", positive: false, problems));
        Add("input-std", Numbers("InputStd", positive: true, problems));
        Add("input-range", InputRange(problems));
        Add("min-agreement", MinAgreement(problems));
        string? calibration = ExistingFile("CalibrationData", projectDirectory, problems);
        Add("calibration-data", calibration);
        string? config = ExistingFile("ConfigFile", projectDirectory, problems);
        Add("config", config);
        ExtraInputs = new[] { calibration, config }.Where(f => f != null).Select(f => f!).ToList();
        _threads = WholeNumber("Threads", 0, 1024, problems);

        string suffix = Precision == "W8A8" ? "int8" : Precision.ToLowerInvariant();
        string outputName = Item.GetMetadata("OutputName").Trim();
        OutputName = outputName.Length > 0 ? outputName : Path.GetFileNameWithoutExtension(ModelPath) + "." + suffix + ".onnx";
        if (Path.IsPathRooted(OutputName) || OutputName.Split('/', '\\').Contains(".."))
        {
            problems.Add(Problem("OutputName", OutputName, "a file name or a relative path inside the output folder, without '..'"));
        }

        Link = Path.Combine(RelativeFolder(projectDirectory), OutputName);
        Embed = Bool("Embed", problems);
        string logicalName = Item.GetMetadata("LogicalName").Trim();
        LogicalName = logicalName.Length > 0 ? logicalName : Path.GetFileName(OutputName);
    }

    /// <summary>The model's folder relative to the project when the model is inside it, else empty.</summary>
    private string RelativeFolder(string projectDirectory)
    {
        string root = Path.GetFullPath(projectDirectory).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar) + Path.DirectorySeparatorChar;
        string folder = Path.GetDirectoryName(ModelPath) + Path.DirectorySeparatorChar;
        return folder.StartsWith(root, StringComparison.Ordinal) ? folder.Substring(root.Length) : string.Empty;
    }

    private void Add(string option, string? value)
    {
        if (value != null)
        {
            _options.Add(new KeyValuePair<string, string>(option, value));
        }
    }

    private string? Choice(string name, string[] allowed, ICollection<KeyValuePair<string, string>> problems)
    {
        string value = Item.GetMetadata(name).Trim();
        if (value.Length == 0)
        {
            return null;
        }

        string? match = allowed.FirstOrDefault(a => string.Equals(a, value, StringComparison.OrdinalIgnoreCase));
        if (match == null)
        {
            problems.Add(Problem(name, value, "one of " + string.Join(", ", allowed)));
        }

        return match;
    }

    private string? WholeNumber(string name, int min, int max, ICollection<KeyValuePair<string, string>> problems)
    {
        string value = Item.GetMetadata(name).Trim();
        if (value.Length == 0)
        {
            return null;
        }

        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
        {
            problems.Add(Problem(name, value, max == int.MaxValue ? $"a whole number of {min} or more" : $"a whole number from {min} to {max}"));
            return null;
        }

        return n.ToString(CultureInfo.InvariantCulture);
    }

    private string? MinAgreement(ICollection<KeyValuePair<string, string>> problems)
    {
        string value = Item.GetMetadata("MinAgreement").Trim();
        if (value.Length == 0)
        {
            return null;
        }

        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) || x < 0 || x > 1)
        {
            problems.Add(Problem("MinAgreement", value, "a fraction between 0 and 1, e.g. 0.95 (agreement with the fp32 model: top-1 for class scores, cosine similarity otherwise)"));
            return null;
        }

        return x.ToString("R", CultureInfo.InvariantCulture);
    }

    /// <summary><c>none</c>, or the terms distinct, lower case and sorted, so their order does not rerun the tool.</summary>
    private string? Without(ICollection<KeyValuePair<string, string>> problems)
    {
        string value = Item.GetMetadata("Without").Trim();
        if (value.Length == 0)
        {
            return null;
        }

        if (string.Equals(value, "none", StringComparison.OrdinalIgnoreCase))
        {
            return "none";
        }

        var terms = value.Split(',').Select(t => t.Trim().ToLowerInvariant()).ToList();
        if (terms.Any(t => Array.IndexOf(Terms, t) < 0))
        {
            problems.Add(Problem("Without", value, "none or a comma-separated list of " + string.Join(", ", Terms)));
            return null;
        }

        return string.Join(",", terms.Distinct().OrderBy(t => t, StringComparer.Ordinal));
    }

    /// <summary>The <c>NAME=VALUE</c> pairs sorted by name with invariant numbers, so their order and spelling do not rerun the tool.</summary>
    private string? TermWeights(ICollection<KeyValuePair<string, string>> problems)
    {
        string value = Item.GetMetadata("TermWeights").Trim();
        if (value.Length == 0)
        {
            return null;
        }

        var weights = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (string pair in value.Split(','))
        {
            string[] parts = pair.Split('=');
            string name = parts[0].Trim().ToLowerInvariant();
            if (parts.Length != 2 || Array.IndexOf(WeightNames, name) < 0 || weights.ContainsKey(name)
                || !double.TryParse(parts[1].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double weight)
                || !(weight >= 0 && weight <= MaxWeight))
            {
                problems.Add(Problem("TermWeights", value,
                    "comma-separated NAME=VALUE pairs, NAME one of " + string.Join(", ", WeightNames) + " (each at most once), VALUE a number from 0 to 1e6"));
                return null;
            }

            weights[name] = weight;
        }

        return string.Join(",", weights.Select(w => w.Key + "=" + w.Value.ToString("R", CultureInfo.InvariantCulture)));
    }

    private string? InputShape(ICollection<KeyValuePair<string, string>> problems)
    {
        string value = Item.GetMetadata("InputShape").Trim();
        if (value.Length == 0)
        {
            return null;
        }

        string[] dims = value.Split(',', 'x', 'X');
        if (dims.Length != 3 || dims.Any(d => !int.TryParse(d.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n <= 0))
        {
            problems.Add(Problem("InputShape", value, "C,H,W as three whole numbers, e.g. 3,224,224"));
            return null;
        }

        return string.Join(",", dims.Select(d => int.Parse(d.Trim(), CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>Comma-separated numbers (one, or one per input channel) in invariant culture, normalised to their shortest round-trip form.</summary>
    private string? Numbers(string name, bool positive, ICollection<KeyValuePair<string, string>> problems)
    {
        string value = Item.GetMetadata(name).Trim();
        if (value.Length == 0)
        {
            return null;
        }

        double[]? numbers = ParseNumbers(value, positive);
        if (numbers == null)
        {
            problems.Add(Problem(name, value, positive
                ? "one positive number, or one per input channel, comma-separated (e.g. 58.4,57.1,57.4)"
                : "one number, or one per input channel, comma-separated (e.g. 123.7,116.3,103.5)"));
            return null;
        }

        return FormatNumbers(numbers);
    }

    private string? InputRange(ICollection<KeyValuePair<string, string>> problems)
    {
        string value = Item.GetMetadata("InputRange").Trim();
        if (value.Length == 0)
        {
            return null;
        }

        double[]? numbers = ParseNumbers(value, positive: false);
        if (numbers == null || numbers.Length != 2 || !(numbers[0] < numbers[1]))
        {
            problems.Add(Problem("InputRange", value, "MIN,MAX as two numbers with MIN < MAX, e.g. 0,255"));
            return null;
        }

        return FormatNumbers(numbers);
    }

    private static double[]? ParseNumbers(string value, bool positive)
    {
        var numbers = new List<double>();
        foreach (string part in value.Split(','))
        {
            if (!double.TryParse(part.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double x)
                || double.IsNaN(x) || double.IsInfinity(x) || (positive && !(x > 0)))
            {
                return null;
            }

            numbers.Add(x);
        }

        return numbers.ToArray();
    }

    private static string FormatNumbers(IEnumerable<double> numbers) =>
        string.Join(",", numbers.Select(x => x.ToString("R", CultureInfo.InvariantCulture)));

    private string? ExistingFile(string name, string projectDirectory, ICollection<KeyValuePair<string, string>> problems)
    {
        string value = Item.GetMetadata(name).Trim();
        if (value.Length == 0)
        {
            return null;
        }

        string full = Path.GetFullPath(Path.Combine(projectDirectory, value));
        if (!File.Exists(full))
        {
            problems.Add(Problem(name, value, $"an existing file; '{full}' does not exist"));
            return null;
        }

        return full;
    }

    private bool Bool(string name, ICollection<KeyValuePair<string, string>> problems)
    {
        string value = Item.GetMetadata(name).Trim();
        if (value.Length == 0 || string.Equals(value, "false", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (string.Equals(value, "true", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        problems.Add(Problem(name, value, "true or false"));
        return false;
    }

    private static KeyValuePair<string, string> Problem(string name, string value, string expected) =>
        new(name, $"{name}=\"{value}\" is not valid: expected {expected}.");
}
