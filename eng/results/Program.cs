using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dsg.Core.Data;
using Dsg.Core.Evaluation;
using Dsg.Core.Onnx;
using Dsg.Core.Quantization;
using Dsg.Core.Quantization.Observers;
using Dsg.Core.Quantization.Refinement;
using Dsg.Eng;
using Dsg.Results;

// Usage: dotnet run --project eng/results -c Release -- [--models a,b] [--methods real,gaussian,zeroq,dsg]
//   [--precisions W8A8,W6A6,W4A8,W4A4] [--recipes default,paper] [--seeds 0,1,2] [--samples 256] [--iterations 500]
//   [--out docs/results.md] [--observer-study docs/observers.md] [--w8a8-seeds N] [--generator Key=Value,...]
//   [--json study.json] [--family tune|held] [--test-images N] [--refines none,adaround] [--refine-iterations N] [--refine-statistics-weight W] [--refine-augment true|false]  (the nets of one split of testassets/family, made by eng/make-family.py, instead of --models)
var c = CultureInfo.InvariantCulture;
var arguments = ParseArgs(args);
string root = FindRoot();
// Every option the program reads goes through Option, which records it; any other key given fails before a run.
var read = new HashSet<string>(StringComparer.Ordinal);
bool Option(string key, out string value)
{
    read.Add(key);
    return arguments.TryGetValue(key, out value!);
}

string Arg(string key, string fallback) => Option(key, out var v) ? v : fallback;
var models = Option("family", out var split)
    ? FamilyNets(split)
    : Arg("models", "resnet_fmnist,mobilenetv2_fmnist").Split(',');
var methods = Arg("methods", "real,gaussian,zeroq,dsg").Split(',');
var precisions = Arg("precisions", "W8A8,W6A6,W4A8,W4A4").Split(',');
var recipes = Arg("recipes", "default,paper").Split(',').Select(QuantizationOptions.ParseRecipe).ToArray();
var seeds = Arg("seeds", "0,1,2").Split(',').Select(s => int.Parse(s, c)).ToArray();
int samples = int.Parse(Arg("samples", "256"), c);
int iterations = int.Parse(Arg("iterations", "500"), c);
// W8A8 cells use only the first N seeds (--w8a8-seeds 1 saves time; the table says so).
int int8Seeds = int.Parse(Arg("w8a8-seeds", seeds.Length.ToString(c)), c);
// How 8-bit weights are stored (first/last layers of the default recipe and every W8A8 layer): reduced (default) or full.
var eightBitWeights = Enum.Parse<EightBitWeightStorage>(Arg("eight-bit-weights", "reduced"), ignoreCase: true);
string output = Path.Combine(root, Arg("out", "docs/results.md"));
// Refinements after calibration (none, adaround): each one a column per method ("dsg+adaround"), on the same samples.
var refines = Arg("refines", "none").Split(',').Select(QuantizationOptions.ParseRefine).ToArray();
int refineIterations = int.Parse(Arg("refine-iterations", AdaRoundSettings.DefaultIterations.ToString(c)), c);
// Quantization-aware fine-tuning's BatchNorm-statistics weight.
double statisticsWeight = double.Parse(Arg("refine-statistics-weight", AdaRoundSettings.DefaultStatisticsWeight.ToString(c)), c);
// Whether quantization-aware fine-tuning shifts and flips its images.
bool refineAugment = bool.Parse(Arg("refine-augment", AdaRoundSettings.DefaultAugment.ToString()));
var columns = methods.SelectMany(m => refines.Select(r => Column(m, r))).ToArray();
string Column(string method, RefinementMethod refine) => refine == RefinementMethod.None ? method : $"{method}+{refine.ToString().ToLowerInvariant()}";
// Generator settings other than the defaults (GenerationOptions property assignments), for studies of one setting.
string generatorSettings = Arg("generator", "");

string fmnist = Environment.GetEnvironmentVariable("FMNIST_DIR") ?? "/usr/share/datasets/fashion-mnist";
var preprocessing = new ImagePreprocessing { Mean = [0.2860f], Std = [0.3530f] };
var test = CalibrationData.WithLabels(
    CalibrationData.Load(Path.Combine(fmnist, "t10k-images-idx3-ubyte.gz"), new CalibrationDataOptions { Preprocessing = preprocessing }),
    CalibrationData.LoadLabels(Path.Combine(fmnist, "t10k-labels-idx1-ubyte.gz")), "t10k labels");
// --test-images N: the first N test images only (quicker, noisier; for studies, never for docs/results.md).
if (Option("test-images", out var testImages))
{
    test = test.Slice(0, Math.Min(test.Count, int.Parse(testImages, c)));
}

var train = CalibrationData.Load(Path.Combine(fmnist, "train-images-idx3-ubyte.gz"), new CalibrationDataOptions { Preprocessing = preprocessing });
var sources = new SampleSources(train, samples, iterations, generatorSettings, Path.Combine(root, "eng", "results", "cache"));
var total = Stopwatch.StartNew();
string Log(string line)
{
    Console.WriteLine(string.Create(c, $"[{total.Elapsed.TotalSeconds,7:F0}s] {line}"));
    return line;
}

bool writeJson = Option("json", out var jsonPath);
bool observerStudy = Option("observer-study", out var studyPath);
if (arguments.Keys.Except(read).FirstOrDefault() is { } unknown)
{
    Usage($"unknown option '--{unknown}'", read);
}

if (observerStudy)
{
    ObserverStudy(Path.Combine(root, studyPath));
    return;
}

// accuracy[(model, method, recipe, precision)] = list over seeds
var accuracy = new Dictionary<(string, string, QuantizationRecipe, string), List<double>>();
var fp32 = new Dictionary<string, double>();
var deployment = new Dictionary<string, (EvaluationReport Report, double Fp32Batch64, double QBatch64)>();
var missing = new List<string>();
foreach (var name in models)
{
    string path = ModelPath(name);
    if (!File.Exists(path))
    {
        missing.Add(name);
        Log($"{name}: {path} not found, skipped");
        continue;
    }

    var model = OnnxModel.Load(path);
    long[] shape = [1, 28, 28];
    fp32[name] = ModelEvaluator.Accuracy(model, test);
    Log(string.Create(c, $"{name}: fp32 {fp32[name]:P2}"));
    // Seeds outermost, so that a run stopped early still has every column for the seeds it reached.
    foreach (var seed in seeds)
    {
        foreach (var method in methods)
        {
            if (method is "zeroq" or "dsg" && !Generated.Available)
            {
                Log($"{name}: {method} skipped (generator not in this build)");
                continue;
            }

            var calibration = sources.Get(method, name, model, shape, seed);
            foreach (var recipe in recipes)
            {
                foreach (var precision in precisions)
                {
                    if (Array.IndexOf(seeds, seed) >= int8Seeds && precision == "W8A8")
                    {
                        continue;
                    }

                    foreach (var refine in refines)
                    {
                        var options = QuantizationOptions.FromPrecision(precision) with
                        {
                            Recipe = recipe, EightBitWeights = eightBitWeights, Refine = refine, RefineIterations = refineIterations,
                            RefineStatisticsWeight = statisticsWeight, RefineAugment = refineAugment,
                        };
                        var watch = Stopwatch.StartNew();
                        var result = ModelQuantizer.Quantize(model, calibration, options);
                        double seconds = watch.Elapsed.TotalSeconds;
                        double acc = ModelEvaluator.Accuracy(result.Model, test);
                        var key = (name, Column(method, refine), recipe, precision);
                        (accuracy.TryGetValue(key, out var list) ? list : accuracy[key] = []).Add(acc);
                        string refinedLayers = result.Refinement.Layers.Count == 0 ? ""
                            : string.Create(c, $" ({result.Refinement.Layers.Count} layers refined, error {result.Refinement.Layers.Sum(l => l.LearnedError) / result.Refinement.Layers.Sum(l => l.NearestError):P0} of nearest)");
                        Log(string.Create(c, $"{name} {Column(method, refine)} seed {seed} {recipe} {precision}: {acc:P2} in {seconds:F1} s{refinedLayers}"));
                        File.WriteAllText(output, Render(complete: false));
                        if (method == "real" && refine == RefinementMethod.None && seed == seeds[0] && recipe == QuantizationRecipe.Default && precision == "W8A8")
                        {
                            var bytes = result.Model.ToBytes();
                            var report = ModelEvaluator.Compare(model, result.Model, test.Slice(0, Math.Min(test.Count, 1024)),
                                new EvaluationOptions { LatencyRuns = 30, WarmupRuns = 5 }, new FileInfo(path).Length, bytes.LongLength);
                            deployment[name] = (report, report.Reference.Latency!.BatchMs, report.Candidate.Latency!.BatchMs);
                            Log(string.Create(c, $"{name} latency b64 fp32 {report.Reference.Latency.BatchMs:F2} ms, W8A8 {report.Candidate.Latency.BatchMs:F2} ms; size {report.Reference.FileBytes} -> {report.Candidate.FileBytes}"));
                        }
                    }
                }
            }
        }
    }
}

File.WriteAllText(output, Render(complete: true));
Log($"wrote {output}");
if (writeJson)
{
    // Every measured cell, one object per (model, method, recipe, precision), for studies that compare runs.
    var cells = accuracy.Select(cell => new
    {
        model = cell.Key.Item1,
        method = cell.Key.Item2,
        recipe = cell.Key.Item3.ToString().ToLowerInvariant(),
        precision = cell.Key.Item4,
        fp32 = fp32[cell.Key.Item1],
        accuracy = cell.Value,
    });
    File.WriteAllText(Path.Combine(root, jsonPath), JsonSerializer.Serialize(new { generator = generatorSettings, samples, iterations, seeds, cells }));
    Log($"wrote {jsonPath}");
}

string Render(bool complete)
{
    var md = new StringBuilder();
    md.AppendLine("# Results: Fashion-MNIST accuracy of quantized test-asset models");
    md.AppendLine();
    if (!complete)
    {
        md.AppendLine("**Partial run**: the command was stopped before it finished; cells it did not reach show `n/a`, and a cell's ± covers only the seeds it reached.");
        md.AppendLine();
    }

    md.AppendLine("Produced by `eng/results.sh` (the C# driver in `eng/results/`); every number below is measured by that command.");
    md.AppendLine();
    md.AppendLine(string.Create(c, $"- Metric: top-1 accuracy on the full Fashion-MNIST test set ({test.Count:N0} images, `{fmnist}`), ONNX Runtime 1.31 CPU."));
    md.AppendLine(string.Create(c, $"- Calibration: {samples} samples per run; seeds {string.Join(", ", seeds)}; the same samples feed every precision and recipe."));
    md.AppendLine("  `real` = random training images (seeded subset of the 60k training set, never the test set); `gaussian` = N(0,1) noise;");
    md.AppendLine(string.Create(c, $"  `zeroq`/`dsg` = Dsg's generator with {iterations} iterations."));
    md.AppendLine(int8Seeds >= seeds.Length
        ? "- Cells below 8 bits give mean ± standard deviation over the seeds; W8A8 gives the same statistics."
        : string.Create(c, $"- Cells below 8 bits give mean ± standard deviation over the seeds; W8A8 cells use only the first {int8Seeds} seed(s) (a single number has no ± )."));
    md.AppendLine("- Recipes: `default` = first/last layer at 8 bits, per-channel weights with MSE clipping search, activations by the default observer (" +
        QuantizationOptions.DefaultObserver.ToString().ToLowerInvariant() + "); `paper` = every layer at the target width, per-channel min/max weights, per-tensor min/max activations.");
    md.AppendLine(string.Create(c, $"- Command: `eng/results.sh --samples {samples} --iterations {iterations} --seeds {string.Join(",", seeds)}{(int8Seeds < seeds.Length ? $" --w8a8-seeds {int8Seeds}" : "")}{(precisions.Length < 4 ? $" --precisions {string.Join(",", precisions)}" : "")}{(generatorSettings.Length > 0 ? $" --generator {generatorSettings}" : "")}{(arguments.ContainsKey("family") ? $" --family {arguments["family"]}" : arguments.ContainsKey("models") ? $" --models {string.Join(",", models)}" : "")}{(arguments.ContainsKey("recipes") ? $" --recipes {arguments["recipes"]}" : "")}{(arguments.ContainsKey("methods") ? $" --methods {string.Join(",", methods)}" : "")}{(arguments.ContainsKey("out") ? $" --out {arguments["out"]}" : "")}{(arguments.ContainsKey("refines") ? $" --refines {arguments["refines"]}" : "")}{(arguments.ContainsKey("refine-iterations") ? $" --refine-iterations {refineIterations}" : "")}{(arguments.ContainsKey("refine-statistics-weight") ? $" --refine-statistics-weight {statisticsWeight}" : "")}{(arguments.ContainsKey("refine-augment") ? $" --refine-augment {refineAugment.ToString().ToLowerInvariant()}" : "")} --eight-bit-weights {eightBitWeights.ToString().ToLowerInvariant()}`; total run time {total.Elapsed.TotalMinutes:F1} min on this machine (generation {sources.GenerationSeconds / 60:F1} min)."));
    if (missing.Count > 0)
    {
        md.AppendLine($"- Not measured (model file missing): {string.Join(", ", missing)}.");
    }

    var skipped = methods.Where(m => m is "zeroq" or "dsg" && !Generated.Available).ToList();
    if (skipped.Count > 0)
    {
        md.AppendLine($"- Not measured yet: {string.Join(", ", skipped)} (the generator is not in this build); those columns show `n/a`.");
    }

    md.AppendLine();
    foreach (var recipe in recipes)
    {
        md.AppendLine($"## Recipe `{recipe.ToString().ToLowerInvariant()}`");
        md.AppendLine();
        md.AppendLine("| model | precision | fp32 | " + string.Join(" | ", columns) + " |");
        md.AppendLine("| --- | --- | ---: | " + string.Join(" | ", columns.Select(_ => "---:")) + " |");
        foreach (var name in models.Where(fp32.ContainsKey))
        {
            foreach (var precision in precisions)
            {
                var cells = columns.Select(m => accuracy.TryGetValue((name, m, recipe, precision), out var v) ? Cell(v) : "n/a");
                md.AppendLine(string.Create(c, $"| {name} | {precision} | {fp32[name] * 100:F2} | {string.Join(" | ", cells)} |"));
            }
        }

        md.AppendLine();
    }

    if (deployment.Count == 0)
    {
        // No W8A8 real-data cell was measured (for example --precisions W4A4): no deployment table.
        return md.ToString();
    }

    md.AppendLine("## Deployment: fp32 vs W8A8 (default recipe, real-data calibration, seed " + seeds[0].ToString(c) + ")");
    md.AppendLine();
    md.AppendLine("| model | fp32 ms (batch 1) | W8A8 ms (batch 1) | fp32 ms (batch 64) | W8A8 ms (batch 64) | latency ratio fp32/W8A8 at batch 64 | fp32 bytes | W8A8 bytes | size ratio |");
    md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    foreach (var (name, d) in deployment)
    {
        var r = d.Report;
        md.AppendLine(string.Create(c, $"| {name} | {r.Reference.Latency!.Batch1Ms:F2} | {r.Candidate.Latency!.Batch1Ms:F2} | {d.Fp32Batch64:F2} | {d.QBatch64:F2} | {d.Fp32Batch64 / d.QBatch64:F2} | {r.Reference.FileBytes:N0} | {r.Candidate.FileBytes:N0} | {r.SizeRatio:F2} |"));
    }

    md.AppendLine();
    md.AppendLine("Latency: median of 30 ONNX Runtime calls after 5 warm-up calls, CPU execution provider, all graph optimizations, default thread count, on the shared 2-core development machine; the W8A8 model runs as QLinearConv/QLinearAdd/QGemm after ONNX Runtime's QDQ fusion.");
    return md.ToString();
}

string Cell(List<double> values)
{
    double mean = values.Average() * 100;
    if (values.Count == 1)
    {
        return mean.ToString("F2", c);
    }

    double std = Math.Sqrt(values.Sum(v => (v * 100 - mean) * (v * 100 - mean)) / (values.Count - 1));
    return string.Create(c, $"{mean:F2} ± {std:F2}");
}

void ObserverStudy(string path)
{
    var md = new StringBuilder();
    md.AppendLine("| model | calibration | recipe | precision | " + string.Join(" | ", Enum.GetNames<ObserverKind>().Select(n => n.ToLowerInvariant())) + " |");
    md.AppendLine("| --- | --- | --- | --- | " + string.Join(" | ", Enum.GetNames<ObserverKind>().Select(_ => "---:")) + " |");
    foreach (var name in models)
    {
        string modelPath = ModelPath(name);
        if (!File.Exists(modelPath))
        {
            continue;
        }

        var model = OnnxModel.Load(modelPath);
        foreach (var method in methods.Where(m => m is "real" or "gaussian" || Generated.Available))
        {
            var calibration = sources.Get(method, name, model, [1, 28, 28], seeds[0]);
            foreach (var recipe in recipes)
            {
                foreach (var precision in precisions)
                {
                    var cells = new List<string>();
                    foreach (var kind in Enum.GetValues<ObserverKind>())
                    {
                        var options = QuantizationOptions.FromPrecision(precision) with { Recipe = recipe, Observer = kind };
                        double acc = ModelEvaluator.Accuracy(ModelQuantizer.Quantize(model, calibration, options).Model, test);
                        cells.Add((acc * 100).ToString("F2", c));
                        Log(string.Create(c, $"{name} {method} {recipe} {precision} {kind}: {acc:P2}"));
                    }

                    md.AppendLine($"| {name} | {method} | {recipe.ToString().ToLowerInvariant()} | {precision} | {string.Join(" | ", cells)} |");
                }
            }
        }
    }

    File.WriteAllText(path, md.ToString());
    Log($"wrote {path}");
}

// A test asset (testassets/models) or a net of the evaluation family (testassets/family).
string ModelPath(string name)
{
    string asset = Path.Combine(root, "testassets", "models", name + ".onnx");
    return File.Exists(asset) ? asset : Path.Combine(root, "testassets", "family", name + ".onnx");
}

string[] FamilyNets(string which)
{
    using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "testassets", "family", "manifest.json")));
    var names = manifest.RootElement.EnumerateObject()
        .Where(net => net.Value.GetProperty("split").GetString() == which)
        .Select(net => net.Name)
        .ToArray();
    return names.Length > 0 ? names : throw new ArgumentException($"testassets/family/manifest.json has no net in split '{which}' (tune or held)");
}

// Options come as --key value pairs; a bare --help, a value without a key or a key without a value prints the usage
// and exits 2 (unknown keys are refused once the options are read, above), so a mistyped study never overwrites
// docs/results.md with the default grid.
static Dictionary<string, string> ParseArgs(string[] args)
{
    var result = new Dictionary<string, string>(StringComparer.Ordinal);
    for (int i = 0; i < args.Length; i += 2)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
        {
            Usage(args[i].StartsWith("--", StringComparison.Ordinal) ? $"{args[i]} needs a value" : $"'{args[i]}' is not an option", null);
        }

        result[args[i][2..]] = args[i + 1];
    }

    return result;
}

static void Usage(string problem, IEnumerable<string>? options)
{
    Console.Error.WriteLine($"results: {problem}");
    Console.Error.WriteLine(options is null
        ? "usage: Results [--key value]...  (the options: the comment at the top of eng/results/Program.cs)"
        : "usage: Results [--" + string.Join(" V] [--", options) + " V]  (see the comment at the top of eng/results/Program.cs)");
    Environment.Exit(2);
}

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DsgBuild.sln")))
    {
        dir = dir.Parent;
    }

    return dir?.FullName ?? Directory.GetCurrentDirectory();
}
