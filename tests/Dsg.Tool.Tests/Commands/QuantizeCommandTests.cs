using System.Text.Json;
using Dsg.Core;
using Dsg.Core.Evaluation;
using Dsg.Core.Generation;
using Dsg.Tests.Shared;
using Dsg.Tool.Configuration;
using Dsg.Tool.Running;

namespace Dsg.Tool.Tests.Commands;

/// <summary>
/// The quantize verb's cache, output and guard logic with a recording producer in place of the pipeline (fast);
/// the real pipeline runs in <see cref="Integration.QuantizeProcessTests"/>.
/// </summary>
public sealed class QuantizeCommandTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private int _productions;

    public void Dispose() => _folder.Dispose();

    private string Out => _folder.Combine("out", "resnet.q.onnx");

    private QuantizeProducer Producer(double agreement = 0.97, TimeSpan? delay = null, AgreementMetric? metric = null) => async (job, cancellationToken) =>
    {
        Interlocked.Increment(ref _productions);
        job.Reporter.PhaseStarted("generate");
        if (delay is { } wait)
        {
            await Task.Delay(wait, cancellationToken);
        }

        job.Reporter.Progress("generate", 1, 1, "batch 1/1");
        job.Reporter.PhaseDone("generate", 0.01);
        await File.WriteAllTextAsync(Path.Combine(job.Directory, "model.onnx"), $"{job.Options.Precision} {job.Options.Samples}", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(job.Directory, "model.report.json"), "{}", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(job.Directory, "model.report.md"), "# report", cancellationToken);
        return new QuantizeProduct(agreement, metric);
    };

    private ToolRun Quantize(QuantizeProducer producer, params string[] extra) =>
        InProcessTool.Run(["quantize", RepoPaths.Model("resnet_fmnist.onnx"), "--out", Out, "--json", "--cache-dir", _folder.Combine("cache"), .. extra],
            quantizeProducer: producer);

    [Fact]
    public void SecondRunWithTheSameSettingsIsACacheHitWithIdenticalFiles()
    {
        var first = Quantize(Producer(), "--samples", "8");
        Assert.True(first.ExitCode == 0, first.ToString());
        var firstResult = first.Line("result");
        Assert.False(firstResult.GetProperty("cacheHit").GetBoolean());
        Assert.Equal(Out, firstResult.GetProperty("output").GetString());
        Assert.Equal(new[] { _folder.Combine("out", "resnet.q.report.json"), _folder.Combine("out", "resnet.q.report.md") },
            firstResult.GetProperty("reports").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(0.97, firstResult.GetProperty("agreement").GetDouble());
        Assert.Contains(first.JsonLines, l => l.GetProperty("type").GetString() == "phase" && l.GetProperty("status").GetString() == "start");
        var bytes = File.ReadAllBytes(Out);
        File.Delete(Out);

        var second = Quantize(Producer(), "--samples", "8", "--threads", "1");
        Assert.True(second.Line("result").GetProperty("cacheHit").GetBoolean());
        Assert.Equal(firstResult.GetProperty("cacheKey").GetString(), second.Line("result").GetProperty("cacheKey").GetString());
        Assert.Equal(bytes, File.ReadAllBytes(Out));
        Assert.Equal(1, _productions);

        var other = Quantize(Producer(), "--samples", "9");
        Assert.False(other.Line("result").GetProperty("cacheHit").GetBoolean());
        Assert.NotEqual(firstResult.GetProperty("cacheKey").GetString(), other.Line("result").GetProperty("cacheKey").GetString());
        Assert.Equal(2, _productions);
    }

    /// <summary>A producer that writes a real report, naming the files as the pipeline does: its own model and staging folder.</summary>
    private QuantizeProducer ReportingProducer() => async (job, cancellationToken) =>
    {
        await File.WriteAllTextAsync(Path.Combine(job.Directory, "model.onnx"), "q", cancellationToken);
        var report = new Dsg.Core.Pipeline.QuantizeReport
        {
            DsgVersion = "0", Model = job.ModelPath, Output = Path.Combine(job.Directory, "model.onnx"), Precision = "W8A8",
            Options = new Dictionary<string, object>(), Source = "dsg", SourceDescription = "8 samples", CalibrationSamples = 8,
            HeldOutSamples = 4, Seed = 0, Seconds = new Dictionary<string, double>(), Agreement = 1, OutputSqnrDb = 30,
            FoldedBatchNorms = 0, Int32Biases = 0, Fp32Bytes = 4, QuantizedBytes = 1, Layers = [], Activations = [],
        };
        await File.WriteAllTextAsync(Path.Combine(job.Directory, "model.report.json"), Dsg.Core.Pipeline.QuantizeReportWriter.ToJson(report), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(job.Directory, "model.report.md"), Dsg.Core.Pipeline.QuantizeReportWriter.ToMarkdown(report), cancellationToken);
        return new QuantizeProduct(1, null);
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReportsNameTheUsersModelAndOutputAlsoOnACacheHitThroughACopy(bool noCache)
    {
        string copy = _folder.Combine("elsewhere", "copy.onnx");
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        File.Copy(RepoPaths.Model("resnet_fmnist.onnx"), copy);
        string[] cache = noCache ? ["--no-cache"] : ["--cache-dir", _folder.Combine("cache")];
        Assert.Equal(0, Quantize(ReportingProducer(), noCache ? ["--no-cache"] : []).ExitCode);
        string copyOut = _folder.Combine("other", "copy.int8.onnx");

        var run = InProcessTool.Run(["quantize", copy, "--out", copyOut, "--json", .. cache], quantizeProducer: ReportingProducer());

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(!noCache, run.Line("result").GetProperty("cacheHit").GetBoolean());
        var report = Dsg.Core.Pipeline.QuantizeReportWriter.FromJson(File.ReadAllText(_folder.Combine("other", "copy.int8.report.json")))!;
        Assert.Equal(copy, report.Model);
        Assert.Equal(copyOut, report.Output);
        string markdown = File.ReadAllText(_folder.Combine("other", "copy.int8.report.md"));
        Assert.StartsWith("# Dsg quantization report: copy.int8.onnx", markdown, StringComparison.Ordinal);
        Assert.Contains($"- Model: `{copy}`", markdown, StringComparison.Ordinal);
        Assert.Contains($"- Output: `{copyOut}`", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void QuantizeSaysWhichDsgJsonItUsed()
    {
        string model = _folder.Combine("models", "m.onnx");
        Directory.CreateDirectory(Path.GetDirectoryName(model)!);
        File.Copy(RepoPaths.Model("resnet_fmnist.onnx"), model);
        string config = _folder.Write("models/dsg.json", """{ "samples": 8 }""");

        var run = InProcessTool.Run(["quantize", model, "--out", Out, "--cache-dir", _folder.Combine("cache")], quantizeProducer: Producer());

        Assert.Equal(0, run.ExitCode);
        Assert.Contains($"Settings from {config}", run.Output + run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void NoCacheProducesEveryTimeAndStoresNothing()
    {
        Assert.Equal(0, Quantize(Producer(), "--no-cache").ExitCode);
        var second = Quantize(Producer(), "--no-cache");
        Assert.Equal(2, _productions);
        Assert.Equal(JsonValueKind.Null, second.Line("result").GetProperty("cacheKey").ValueKind);
        Assert.False(Directory.Exists(_folder.Combine("cache")));
        Assert.True(File.Exists(Out));
    }

    [Fact]
    public void CorruptEntryIsReportedAsAWarningAndRebuilt()
    {
        var first = Quantize(Producer());
        var key = first.Line("result").GetProperty("cacheKey").GetString()!;
        File.AppendAllText(_folder.Combine("cache", key, "model.onnx"), "tampered");
        var second = Quantize(Producer());
        Assert.Equal(0, second.ExitCode);
        Assert.Equal(ErrorCodes.CacheEntryCorrupt, second.Line("warning").GetProperty("code").GetString());
        Assert.False(second.Line("result").GetProperty("cacheHit").GetBoolean());
        Assert.Equal(2, _productions);
    }

    [Fact]
    public void AgreementGuardFailsWithoutWritingAndAppliesToHits()
    {
        var failing = Quantize(Producer(agreement: 0.5), "--min-agreement", "0.9");
        Assert.Equal(1, failing.ExitCode);
        Assert.Equal(ErrorCodes.AgreementBelowMinimum, failing.Line("error").GetProperty("code").GetString());
        Assert.False(File.Exists(Out));

        var relaxed = Quantize(Producer(agreement: 0.5), "--min-agreement", "0.4");
        Assert.Equal(0, relaxed.ExitCode);
        Assert.True(relaxed.Line("result").GetProperty("cacheHit").GetBoolean());
        Assert.Equal(1, _productions);
    }

    [Fact]
    public void ACosineAgreementIsNamedInTheResultTheGuardAndOnCacheHits()
    {
        var failing = Quantize(Producer(agreement: 0.8, metric: AgreementMetric.Cosine), "--min-agreement", "0.9");
        Assert.Equal(1, failing.ExitCode);
        var error = failing.Line("error");
        Assert.Equal(ErrorCodes.AgreementBelowMinimum, error.GetProperty("code").GetString());
        Assert.Contains("mean cosine similarity", error.GetProperty("message").GetString());
        Assert.Contains("0.8000", error.GetProperty("message").GetString());
        Assert.False(File.Exists(Out));

        // The cached entry remembers how its agreement was measured.
        var relaxed = Quantize(Producer(agreement: 0.8, metric: AgreementMetric.Cosine), "--min-agreement", "0.5");
        Assert.Equal(0, relaxed.ExitCode);
        var result = relaxed.Line("result");
        Assert.True(result.GetProperty("cacheHit").GetBoolean());
        Assert.Equal("cosine", result.GetProperty("agreementMetric").GetString());
        Assert.Equal(1, _productions);

        var human = InProcessTool.Run(["quantize", RepoPaths.Model("resnet_fmnist.onnx"), "--out", Out, "--cache-dir", _folder.Combine("cache"), "--min-agreement", "0.5"],
            quantizeProducer: Producer(agreement: 0.8, metric: AgreementMetric.Cosine));
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.Contains("mean cosine similarity with fp32 0.8000", human.Output);

        var classifier = Quantize(Producer(), "--samples", "9");
        Assert.Equal("top-1", classifier.Line("result").GetProperty("agreementMetric").GetString());
    }

    [Fact]
    public void OutputKindEntersTheCacheKeyCaseInsensitivelyAndReachesTheProducer()
    {
        DsgOptions? seen = null;
        string? Key(params string[] extra) => Quantize((job, cancellationToken) =>
        {
            seen = job.Options;
            return Producer()(job, cancellationToken);
        }, extra).Line("result").GetProperty("cacheKey").GetString();

        var auto = Key();
        var embedding = Key("--output-kind", "embedding");
        Assert.Equal("embedding", seen!.OutputKind);
        Assert.Equal(Core.Graph.OutputKind.Embedding, Core.Graph.OutputKindDetector.ParseRequested(seen.OutputKind));
        var logits = Key("--output-kind", "logits");
        Assert.Equal(3, new[] { auto, embedding, logits }.Distinct().Count());
        Assert.Equal(embedding, Key("--output-kind", "Embedding"));
        Assert.Equal(auto, Key("--output-kind", "AUTO"));

        var bad = Quantize(Producer(), "--output-kind", "softmax");
        Assert.Equal(1, bad.ExitCode);
        Assert.Equal(ErrorCodes.BadOption, bad.Line("error").GetProperty("code").GetString());
        Assert.Contains("auto, logits, probabilities, embedding, dense", bad.Line("error").GetProperty("message").GetString());
    }

    [Fact]
    public void RefinementEntersTheCacheKeyAndReachesTheQuantizationOptions()
    {
        DsgOptions? seen = null;
        string? Key(params string[] extra) => Quantize((job, cancellationToken) =>
        {
            seen = job.Options;
            return Producer()(job, cancellationToken);
        }, extra).Line("result").GetProperty("cacheKey").GetString();

        var none = Key();
        Assert.Equal(Core.Quantization.Refinement.RefinementMethod.None, QuantizePipelineProducer.QuantizationOptionsFor(seen!).Refine);
        var adaround = Key("--refine", "AdaRound");
        var options = QuantizePipelineProducer.QuantizationOptionsFor(seen!);
        Assert.Equal(Core.Quantization.Refinement.RefinementMethod.AdaRound, options.Refine);
        Assert.Equal(Core.Quantization.Refinement.AdaRoundSettings.DefaultIterations, options.RefineIterations);
        var longer = Key("--refine", "adaround", "--refine-iterations", "1000");
        Assert.Equal(1000, QuantizePipelineProducer.QuantizationOptionsFor(seen!).AdaRound.Iterations);
        var brecq = Key("--refine", "brecq");
        Assert.Equal(Core.Quantization.Refinement.RefinementMethod.Brecq, QuantizePipelineProducer.QuantizationOptionsFor(seen!).Refine);
        Assert.Equal(4, new[] { none, adaround, longer, brecq }.Distinct().Count());
        Assert.Equal(none, Key("--refine", "none"));
        Assert.Equal(none, Key("--refine", "none", "--refine-iterations", "1000"));
        Assert.Equal(adaround, Key("--refine", "adaround"));

        var bad = Quantize(Producer(), "--refine", "qdrop");
        Assert.Equal(1, bad.ExitCode);
        Assert.Equal(ErrorCodes.BadOption, bad.Line("error").GetProperty("code").GetString());
        Assert.Contains("none, adaround, brecq, qat", bad.Line("error").GetProperty("message").GetString());
        var zero = Quantize(Producer(), "--refine", "adaround", "--refine-iterations", "0");
        Assert.Equal(ErrorCodes.BadOption, zero.Line("error").GetProperty("code").GetString());
    }

    [Fact]
    public void HeldOutSamplesEnterTheCacheKeyByTheirEffectiveValueAndReachThePipelineRequest()
    {
        DsgOptions? seen = null;
        string? Key(params string[] extra) => Quantize((job, cancellationToken) =>
        {
            seen = job.Options;
            return Producer()(job, cancellationToken);
        }, extra).Line("result").GetProperty("cacheKey").GetString();

        // With the samples and held-out samples both left to the budget, the count follows the budget's samples.
        var budget = Key();
        Assert.Null(seen!.HeldOutSamples);
        Assert.Null(seen.Samples);
        Assert.NotEqual(budget, Key("--held-out-samples", "64"));

        var unset = Key("--samples", "256");
        Assert.Equal(64, QuantizePipelineProducer.RequestFor(seen, "m.onnx", "q.onnx").HeldOutFor(256));
        // The default for 256 samples is 64: spelling it out is the same entry.
        Assert.Equal(unset, Key("--samples", "256", "--held-out-samples", "64"));

        var explicitCount = Key("--samples", "256", "--held-out-samples", "32");
        Assert.NotEqual(unset, explicitCount);
        Assert.Equal(32, seen.HeldOutSamples);
        Assert.Equal(32, QuantizePipelineProducer.RequestFor(seen, "m.onnx", "q.onnx").HeldOutSamples);

        var bad = Quantize(Producer(), "--held-out-samples", "0");
        Assert.Equal(1, bad.ExitCode);
        Assert.Equal(ErrorCodes.BadOption, bad.Line("error").GetProperty("code").GetString());
    }

    [Fact]
    public void CancellationLeavesNoOutputAndNoEntry()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var run = InProcessTool.Run(["quantize", RepoPaths.Model("resnet_fmnist.onnx"), "--out", Out, "--json", "--cache-dir", _folder.Combine("cache")],
            quantizeProducer: Producer(delay: TimeSpan.FromMinutes(1)), cancellationToken: cancel.Token);
        Assert.Equal(130, run.ExitCode);
        Assert.Equal(ErrorCodes.Cancelled, run.Line("error").GetProperty("code").GetString());
        // The run created the out folder, so it removed it again (issue 13): nothing is left of the output.
        Assert.False(Directory.Exists(_folder.Combine("out")));
        Assert.DoesNotContain(Directory.GetDirectories(_folder.Combine("cache")), d => !Path.GetFileName(d).StartsWith('.'));
        Assert.Empty(Directory.GetFileSystemEntries(_folder.Combine("cache", ".tmp")));
    }

    [Fact]
    public void RecipePartsAreIndividualOptionsThatEnterTheCacheKey()
    {
        var unset = QuantizePipelineProducer.QuantizationOptionsFor(new Dsg.Tool.Configuration.DsgOptions { Precision = "W4A4", Recipe = "paper" });
        Assert.Equal(Core.Quantization.WeightRangeMethod.MinMax, unset.EffectiveWeightRange);
        Assert.False(unset.EffectiveEightBitFirstLastLayer);
        Assert.True(unset.EightBitInput);
        Assert.Equal(Core.Quantization.EightBitWeightStorage.Reduced, unset.EightBitWeights);
        var set = QuantizePipelineProducer.QuantizationOptionsFor(new Dsg.Tool.Configuration.DsgOptions
        {
            Precision = "W4A4", Recipe = "paper", WeightRange = "mse", FirstLastLayer = "8bit", InputQuantization = "target", EightBitWeights = "full",
        });
        Assert.Equal(Core.Quantization.EightBitWeightStorage.Full, set.EightBitWeights);
        Assert.Equal(Core.Quantization.WeightRangeMethod.Mse, set.EffectiveWeightRange);
        Assert.True(set.EffectiveEightBitFirstLastLayer);
        Assert.False(set.EightBitInput);

        var keys = new[] { ("--weight-range", "minmax"), ("--first-last-layer", "target"), ("--input-quantization", "target"), ("--eight-bit-weights", "full") }
            .Select(f => Quantize(Producer(), f.Item1, f.Item2).Line("result").GetProperty("cacheKey").GetString())
            .Append(Quantize(Producer()).Line("result").GetProperty("cacheKey").GetString());
        Assert.Equal(5, keys.Distinct().Count());

        var bad = Quantize(Producer(), "--first-last-layer", "7bit");
        Assert.Equal(1, bad.ExitCode);
        Assert.Equal(ErrorCodes.BadOption, bad.Line("error").GetProperty("code").GetString());
        Assert.Contains("8bit, target", bad.Line("error").GetProperty("message").GetString());
    }

    [Fact]
    public void AblationsFromTheCommandLineReachTheGenerationOptions()
    {
        DsgOptions? seen = null;
        var run = Quantize((job, cancellationToken) =>
        {
            seen = job.Options;
            return Producer()(job, cancellationToken);
        }, "--without", "sci,class", "--term-weights", "class=5");
        Assert.True(run.ExitCode == 0, run.ToString());

        var generation = QuantizePipelineProducer.GenerationOptionsFor(seen!);
        var defaults = GenerationOptions.Default;
        Assert.False(generation.UseCorrelationInhibition);
        Assert.False(generation.UseCrossEntropy);
        Assert.Equal(5, generation.CrossEntropyWeight);
        Assert.True(generation.UseSlack && generation.UseLayerwiseEnhancement && generation.UseInputStatistics && generation.UsePriors);
        Assert.Equal(
            [defaults.BatchNormWeight, defaults.InputStatisticsWeight, defaults.CorrelationWeight, defaults.TotalVariationWeight, defaults.L2Weight],
            [generation.BatchNormWeight, generation.InputStatisticsWeight, generation.CorrelationWeight, generation.TotalVariationWeight, generation.L2Weight]);

        // Without either setting every term and weight is the generator's own default.
        var plain = QuantizePipelineProducer.GenerationOptionsFor(DsgOptions.Default);
        Assert.Equal(defaults with
        {
            Method = plain.Method, Samples = plain.Samples, BatchSize = plain.BatchSize, Iterations = plain.Iterations,
            Seed = plain.Seed, Device = plain.Device, Threads = plain.Threads,
        }, plain);
    }

    [Fact]
    public void AblationsEnterTheCacheKeyInCanonicalForm()
    {
        string? Key(params string[] extra) => Quantize(Producer(), extra).Line("result").GetProperty("cacheKey").GetString();
        var plain = Key();
        var withoutSci = Key("--without", "sci");
        var heavierBatchNorm = Key("--term-weights", "bn=2");
        Assert.Equal(3, new[] { plain, withoutSci, heavierBatchNorm }.Distinct().Count());
        Assert.Equal(Key("--without", "sci,class"), Key("--without", "CLASS, sci,sci"));
        Assert.Equal(Key("--term-weights", "bn=2,tv=0"), Key("--term-weights", "tv=0.0, BN=2"));
        var defaultBatchNorm = GenerationOptions.Default.BatchNormWeight.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(plain, Key("--without", "none", "--term-weights", "bn=" + defaultBatchNorm));
    }

    [Fact]
    public void TheInputConventionEntersTheCacheKeyInCanonicalFormAndReachesTheSamplesSource()
    {
        string? Key(params string[] extra) => Quantize(Producer(), extra).Line("result").GetProperty("cacheKey").GetString();
        var keys = new[] { Key(), Key("--input-mean", "0.5"), Key("--input-std", "2"), Key("--input-range", "0,1"), Key("--input-range", "-1,1") };
        Assert.Equal(5, keys.Distinct().Count());
        Assert.Equal(Key("--input-mean", "0.5,0.25"), Key("--input-mean", "5e-1, 0.250"));

        DsgOptions? seen = null;
        var run = Quantize((job, cancellationToken) =>
        {
            seen = job.Options;
            return Producer()(job, cancellationToken);
        }, "--input-mean", "120", "--input-std", "60", "--input-range", "-10,255");
        Assert.True(run.ExitCode == 0, run.ToString());
        var declared = QuantizePipelineProducer.InputDeclarationFor(seen!);
        Assert.Equal([120.0], declared.Mean);
        Assert.Equal([60.0], declared.Std);
        Assert.Equal(new Core.Graph.InputRange(-10, 255), declared.Range);

        var bad = Quantize(Producer(), "--input-std", "0");
        Assert.Equal(1, bad.ExitCode);
        Assert.Equal(ErrorCodes.BadOption, bad.Line("error").GetProperty("code").GetString());
        Assert.Contains("one positive number", bad.Line("error").GetProperty("message").GetString());
    }

    [Fact]
    public void AblationsWithAnotherMethodAreAccepted()
    {
        var run = Quantize(Producer(), "--method", "gaussian", "--without", "slack,priors", "--term-weights", "sci=0");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(1, _productions);
    }

    [Theory]
    [InlineData("--without", "magic", "none or a comma-separated list of class, input-stats, lse, priors, sci, slack, smoothing")]
    [InlineData("--without", "sci;class", "class, input-stats, lse, priors, sci, slack, smoothing")]
    [InlineData("--term-weights", "class=-1", "NAME one of bn, bn-batch, class, input-stats, l2, sci, tv")]
    [InlineData("--term-weights", "class=NaN", "VALUE a number from 0 to 1e6")]
    [InlineData("--term-weights", "class:5", "comma-separated NAME=VALUE pairs")]
    [InlineData("--term-weights", "gamma=1", "NAME one of bn, bn-batch, class, input-stats, l2, sci, tv")]
    public void BadAblationValuesFailWithTheBadOptionCodeBeforeAnyProduction(string flag, string value, string accepted)
    {
        var bad = Quantize(Producer(), flag, value);
        Assert.Equal(1, bad.ExitCode);
        var error = bad.Line("error");
        Assert.Equal(ErrorCodes.BadOption, error.GetProperty("code").GetString());
        Assert.Contains($"'{value}' for option {flag}", error.GetProperty("message").GetString());
        Assert.Contains(accepted, error.GetProperty("message").GetString());
        Assert.Equal(0, _productions);
        Assert.False(File.Exists(Out));
    }

    [Fact]
    public void UnwritableCacheFolderNamesTheFix()
    {
        var file = _folder.Write("blocker", "");
        var run = InProcessTool.Run(["quantize", RepoPaths.Model("resnet_fmnist.onnx"), "--out", Out, "--json"],
            new Dictionary<string, string> { ["DSG_CACHE_DIR"] = Path.Combine(file, "cache") }, quantizeProducer: Producer());
        Assert.Equal(1, run.ExitCode);
        var error = run.Line("error");
        Assert.Equal(ErrorCodes.CacheUnwritable, error.GetProperty("code").GetString());
        Assert.Contains("DSG_CACHE_DIR", error.GetProperty("hint").GetString());
        Assert.Equal(0, _productions);
    }

    [Fact]
    public void OutputOverTheInputOrOnAFolderIsRefused()
    {
        var sameAsInput = InProcessTool.Run(["quantize", RepoPaths.Model("resnet_fmnist.onnx"), "--out", RepoPaths.Model("resnet_fmnist.onnx")], quantizeProducer: Producer());
        Assert.Equal(1, sameAsInput.ExitCode);
        Assert.StartsWith($"error {ErrorCodes.OutputUnwritable}:", sameAsInput.Error);

        var folder = InProcessTool.Run(["quantize", RepoPaths.Model("resnet_fmnist.onnx"), "--out", _folder.Path], quantizeProducer: Producer());
        Assert.StartsWith($"error {ErrorCodes.OutputUnwritable}:", folder.Error);
        Assert.Equal(0, _productions);
    }

    [Fact]
    public void BadModelFailsBeforeAnyProduction()
    {
        var run = InProcessTool.Run(["quantize", _folder.Combine("none.onnx"), "--out", Out], quantizeProducer: Producer());
        Assert.StartsWith($"error {ErrorCodes.ModelNotFound}:", run.Error);
        Assert.Equal(0, _productions);
    }

    [Fact]
    public void CalibrationDataEntersTheKeyByContent()
    {
        var a = _folder.Write("a/cal.npy", "same bytes");
        var b = _folder.Write("b/other-name.npy", "same bytes");
        var keyA = Quantize(Producer(), "--calibration-data", a).Line("result").GetProperty("cacheKey").GetString();
        var runB = Quantize(Producer(), "--calibration-data", b).Line("result");
        Assert.Equal(keyA, runB.GetProperty("cacheKey").GetString());
        Assert.True(runB.GetProperty("cacheHit").GetBoolean());
        File.WriteAllText(b, "other bytes");
        Assert.NotEqual(keyA, Quantize(Producer(), "--calibration-data", b).Line("result").GetProperty("cacheKey").GetString());
    }
}
