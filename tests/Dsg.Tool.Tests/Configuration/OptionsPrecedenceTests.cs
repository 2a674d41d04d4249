using Dsg.Core;
using Dsg.Tool.Configuration;
using Microsoft.Extensions.Configuration;

namespace Dsg.Tool.Tests.Configuration;

public sealed class OptionsPrecedenceTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static IConfiguration Environment(params (string Name, string Value)[] variables) =>
        new ConfigurationBuilder().AddInMemoryCollection(variables.Select(v => new KeyValuePair<string, string?>(v.Name["DSG_".Length..], v.Value))).Build();

    private ResolvedOptions Resolve(Dictionary<string, string>? commandLine = null, IConfiguration? environment = null, string? model = null, string? configFile = null) =>
        OptionsResolver.Resolve(commandLine ?? [], configFile, model ?? _folder.Combine("models", "deep", "m.onnx"), environment ?? Environment(), _folder.Path);

    [Fact]
    public void EachLayerOverridesTheOneBelowAndIsNamedAsTheSource()
    {
        var defaults = Resolve();
        Assert.Null(defaults.Options.Samples);
        Assert.Equal("default", defaults.Options.Budget);
        Assert.Equal("default", defaults.Sources["Samples"]);
        Assert.Null(defaults.ConfigFile);

        var config = _folder.Write("models/dsg.json", """{ "samples": 100, "seed": 7, "precision": "w4a8" }""");
        var fromFile = Resolve();
        Assert.Equal(config, fromFile.ConfigFile);
        Assert.Equal(100, fromFile.Options.Samples);
        Assert.Equal("W4A8", fromFile.Options.Precision);
        Assert.Equal(config, fromFile.Sources["Samples"]);

        var fromEnvironment = Resolve(environment: Environment(("DSG_SAMPLES", "50"), ("DSG_BATCH_SIZE", "8")));
        Assert.Equal(50, fromEnvironment.Options.Samples);
        Assert.Equal(8, fromEnvironment.Options.BatchSize);
        Assert.Equal(7, fromEnvironment.Options.Seed);
        Assert.Equal("DSG_SAMPLES", fromEnvironment.Sources["Samples"]);
        Assert.Equal(config, fromEnvironment.Sources["Seed"]);

        var fromCommandLine = Resolve(new Dictionary<string, string> { ["Samples"] = "25" }, Environment(("DSG_SAMPLES", "50")));
        Assert.Equal(25, fromCommandLine.Options.Samples);
        Assert.Equal("--samples", fromCommandLine.Sources["Samples"]);
        Assert.Equal(config, fromCommandLine.Sources["Precision"]);
        Assert.Equal("default", fromCommandLine.Sources["Iterations"]);
    }

    [Fact]
    public void NearestDsgJsonWinsAndExplicitConfigReplacesTheSearch()
    {
        _folder.Write("dsg.json", """{ "samples": 1 }""");
        var nearer = _folder.Write("models/dsg.json", """{ "samples": 2 }""");
        var other = _folder.Write("elsewhere/settings.json", """{ "samples": 3 }""");
        Assert.Equal(nearer, Resolve().ConfigFile);
        Assert.Equal(2, Resolve().Options.Samples);
        var explicitFile = Resolve(configFile: other);
        Assert.Equal(3, explicitFile.Options.Samples);
        Assert.Equal(other, explicitFile.Sources["Samples"]);
    }

    [Fact]
    public void PathsInDsgJsonResolveAgainstItsFolderAndArraysBind()
    {
        _folder.Write("models/data/cal.npy", "not really npy");
        _folder.Write("models/dsg.json", """{ "cacheDir": "cache", "calibrationData": "data/cal.npy", "inputShape": [3, 32, 32], "noCache": true, "cacheSizeLimit": "500MB" }""");
        var options = Resolve().Options;
        Assert.Equal(_folder.Combine("models", "cache"), options.CacheDir);
        Assert.Equal(_folder.Combine("models", "data", "cal.npy"), options.CalibrationData);
        Assert.Equal(new long[] { 3, 32, 32 }, options.InputShape);
        Assert.True(options.NoCache);
        Assert.Equal(500L << 20, options.CacheSizeLimit);
    }

    [Fact]
    public void UnknownKeyInDsgJsonNamesTheKeyTheFileAndTheKnownKeys()
    {
        var config = _folder.Write("models/dsg.json", """{ "samples": 10, "sampels": 20 }""");
        var error = Assert.Throws<DsgException>(() => Resolve());
        Assert.Equal(ErrorCodes.BadConfiguration, error.Code);
        Assert.Contains("'sampels'", error.Message);
        Assert.Contains(config, error.Message);
        Assert.Contains("batchSize", error.Hint);
        Assert.Equal(config, error.FilePath);
    }

    [Fact]
    public void BadValueInDsgJsonNamesTheKeyTheFileAndTheAllowedValues()
    {
        var config = _folder.Write("models/dsg.json", """{ "precision": "W3A3" }""");
        var error = Assert.Throws<DsgException>(() => Resolve());
        Assert.Equal(ErrorCodes.BadConfiguration, error.Code);
        Assert.Contains("'W3A3'", error.Message);
        Assert.Contains("'precision'", error.Message);
        Assert.Contains(config, error.Message);
        Assert.Contains("W8A8, W6A6, W4A8, W4A4", error.Hint);
    }

    [Fact]
    public void DsgJsonThatIsNotJsonIsAConfigurationError()
    {
        _folder.Write("models/dsg.json", """{ "samples": 10, """);
        var error = Assert.Throws<DsgException>(() => Resolve());
        Assert.Equal(ErrorCodes.BadConfiguration, error.Code);
        Assert.Contains("not valid JSON", error.Message);
    }

    [Fact]
    public void MissingConfigFileGivenExplicitlyIsAConfigurationError()
    {
        var error = Assert.Throws<DsgException>(() => Resolve(configFile: _folder.Combine("missing.json")));
        Assert.Equal(ErrorCodes.BadConfiguration, error.Code);
        Assert.Contains("--config", error.Hint);
    }

    [Fact]
    public void BadEnvironmentValueNamesTheVariable()
    {
        var error = Assert.Throws<DsgException>(() => Resolve(environment: Environment(("DSG_SAMPLES", "many"))));
        Assert.Equal(ErrorCodes.BadOption, error.Code);
        Assert.Contains("DSG_SAMPLES", error.Message);
        Assert.Contains("an integer from 1", error.Message);
    }

    [Fact]
    public void BadCommandLineValueNamesTheFlagAndAllowedValues()
    {
        var error = Assert.Throws<DsgException>(() => Resolve(new Dictionary<string, string> { ["Method"] = "magic" }));
        Assert.Equal(ErrorCodes.BadOption, error.Code);
        Assert.Contains("--method", error.Message);
        Assert.Contains("dsg, zeroq, gaussian", error.Hint);
    }

    [Theory]
    [InlineData("InputShape", "3,224")]
    [InlineData("InputShape", "3,0,224")]
    [InlineData("MinAgreement", "1.5")]
    [InlineData("CacheSizeLimit", "big")]
    [InlineData("Device", "tpu")]
    [InlineData("CalibrationData", "no-such-file.npy")]
    [InlineData("Iterations", "-1")]
    [InlineData("HeldOutSamples", "0")]
    [InlineData("HeldOutSamples", "100001")]
    [InlineData("HeldOutSamples", "many")]
    [InlineData("Without", "magic")]
    [InlineData("Without", "sci,,class")]
    [InlineData("TermWeights", "bn")]
    [InlineData("TermWeights", "gamma=1")]
    [InlineData("TermWeights", "bn=-1")]
    [InlineData("TermWeights", "bn=NaN")]
    [InlineData("OutputKind", "softmax")]
    [InlineData("OutputKind", "log-probabilities")]
    [InlineData("InputMean", "a,b")]
    [InlineData("InputMean", "0.5,,0.4")]
    [InlineData("InputMean", "Infinity")]
    [InlineData("InputStd", "0")]
    [InlineData("InputStd", "1,-2,1")]
    [InlineData("InputRange", "0")]
    [InlineData("InputRange", "255,0")]
    [InlineData("InputRange", "1,1")]
    [InlineData("InputRange", "0,1,2")]
    public void OutOfRangeValuesAreRejected(string name, string value)
    {
        var error = Assert.Throws<DsgException>(() => Resolve(new Dictionary<string, string> { [name] = value }));
        Assert.Equal(ErrorCodes.BadOption, error.Code);
    }

    [Fact]
    public void AblationsBindFromDsgJsonTheEnvironmentAndTheCommandLine()
    {
        var config = _folder.Write("models/dsg.json", """{ "without": ["SCI", "class"], "termWeights": { "bn": 2, "tv": 0 } }""");
        var fromFile = Resolve();
        Assert.Equal(["class", "sci"], fromFile.Options.Without);
        Assert.Equal<KeyValuePair<string, double>>([new("bn", 2), new("tv", 0)], fromFile.Options.TermWeights);
        Assert.Equal(config, fromFile.Sources["Without"]);
        Assert.Equal(config, fromFile.Sources["TermWeights"]);

        var fromEnvironment = Resolve(environment: Environment(("DSG_WITHOUT", "priors,lse"), ("DSG_TERM_WEIGHTS", "class=5")));
        Assert.Equal(["lse", "priors"], fromEnvironment.Options.Without);
        Assert.Equal<KeyValuePair<string, double>>([new("class", 5)], fromEnvironment.Options.TermWeights);
        Assert.Equal("DSG_WITHOUT", fromEnvironment.Sources["Without"]);
        Assert.Equal("DSG_TERM_WEIGHTS", fromEnvironment.Sources["TermWeights"]);

        var fromCommandLine = Resolve(new Dictionary<string, string> { ["Without"] = "none", ["TermWeights"] = "l2=0.5" }, Environment(("DSG_WITHOUT", "slack")));
        Assert.Empty(fromCommandLine.Options.Without);
        Assert.Equal<KeyValuePair<string, double>>([new("l2", 0.5)], fromCommandLine.Options.TermWeights);
        Assert.Equal("--without", fromCommandLine.Sources["Without"]);
        Assert.Equal("--term-weights", fromCommandLine.Sources["TermWeights"]);
        Assert.Equal("none", OptionCatalog.Without.Format(fromCommandLine.Options));
    }

    [Fact]
    public void BadAblationValuesAreBadOptionsNamingTheAcceptedValues()
    {
        var without = Assert.Throws<DsgException>(() => Resolve(new Dictionary<string, string> { ["Without"] = "sci,magic" }));
        Assert.Equal(ErrorCodes.BadOption, without.Code);
        Assert.Contains("'sci,magic' for option --without", without.Message);
        Assert.Contains("class, input-stats, lse, priors, sci, slack, smoothing", without.Message);

        var weights = Assert.Throws<DsgException>(() => Resolve(environment: Environment(("DSG_TERM_WEIGHTS", "class=-1"))));
        Assert.Equal(ErrorCodes.BadOption, weights.Code);
        Assert.Contains("DSG_TERM_WEIGHTS", weights.Message);
        Assert.Contains("bn, bn-batch, class, input-stats, l2, sci, tv", weights.Message);
        Assert.Contains("a number from 0 to 1e6", weights.Hint);

        _folder.Write("models/dsg.json", """{ "termWeights": { "gamma": 1 } }""");
        var file = Assert.Throws<DsgException>(() => Resolve());
        Assert.Equal(ErrorCodes.BadConfiguration, file.Code);
        Assert.Contains("'termWeights'", file.Message);
    }

    [Fact]
    public void OutputKindBindsFromEverySourceInAnyCaseAndNamesItsValuesWhenWrong()
    {
        Assert.Equal("auto", Resolve().Options.OutputKind);
        var config = _folder.Write("models/dsg.json", """{ "outputKind": "Probabilities" }""");
        var fromFile = Resolve();
        Assert.Equal("probabilities", fromFile.Options.OutputKind);
        Assert.Equal(config, fromFile.Sources["OutputKind"]);

        var fromEnvironment = Resolve(environment: Environment(("DSG_OUTPUT_KIND", "DENSE")));
        Assert.Equal("dense", fromEnvironment.Options.OutputKind);
        Assert.Equal("DSG_OUTPUT_KIND", fromEnvironment.Sources["OutputKind"]);

        var fromCommandLine = Resolve(new Dictionary<string, string> { ["OutputKind"] = "embedding" }, Environment(("DSG_OUTPUT_KIND", "dense")));
        Assert.Equal("embedding", fromCommandLine.Options.OutputKind);
        Assert.Equal("--output-kind", fromCommandLine.Sources["OutputKind"]);

        var error = Assert.Throws<DsgException>(() => Resolve(new Dictionary<string, string> { ["OutputKind"] = "softmax" }));
        Assert.Equal(ErrorCodes.BadOption, error.Code);
        Assert.Contains("--output-kind", error.Message);
        Assert.Contains("auto, logits, probabilities, embedding, dense", error.Hint);
    }

    [Fact]
    public void HeldOutSamplesBindFromEverySourceAndDefaultToAQuarterOfTheSamples()
    {
        var defaults = Resolve();
        Assert.Null(defaults.Options.HeldOutSamples);
        // Samples left to the budget: so is the held-out count.
        Assert.Null(defaults.Options.EffectiveHeldOutSamples);
        Assert.Null(OptionCatalog.HeldOutSamples.Format(defaults.Options));
        var full = Resolve(new Dictionary<string, string> { ["Samples"] = "256" });
        Assert.Equal(64, full.Options.EffectiveHeldOutSamples);
        Assert.Equal("64", OptionCatalog.HeldOutSamples.Format(full.Options));
        var fewer = Resolve(new Dictionary<string, string> { ["Samples"] = "100" });
        Assert.Equal(25, fewer.Options.EffectiveHeldOutSamples);
        Assert.Equal("default", fewer.Sources["HeldOutSamples"]);

        var config = _folder.Write("models/dsg.json", """{ "heldOutSamples": 40 }""");
        var fromFile = Resolve();
        Assert.Equal(40, fromFile.Options.HeldOutSamples);
        Assert.Equal(config, fromFile.Sources["HeldOutSamples"]);

        var fromEnvironment = Resolve(environment: Environment(("DSG_HELD_OUT_SAMPLES", "30")));
        Assert.Equal(30, fromEnvironment.Options.HeldOutSamples);
        Assert.Equal("DSG_HELD_OUT_SAMPLES", fromEnvironment.Sources["HeldOutSamples"]);

        var fromCommandLine = Resolve(new Dictionary<string, string> { ["HeldOutSamples"] = "100000" }, Environment(("DSG_HELD_OUT_SAMPLES", "30")));
        Assert.Equal(100_000, fromCommandLine.Options.HeldOutSamples);
        Assert.Equal("--held-out-samples", fromCommandLine.Sources["HeldOutSamples"]);

        // An empty value unsets it again: back to the default rule.
        Assert.Null(Resolve(new Dictionary<string, string> { ["HeldOutSamples"] = "" }).Options.HeldOutSamples);

        var error = Assert.Throws<DsgException>(() => Resolve(new Dictionary<string, string> { ["HeldOutSamples"] = "0" }));
        Assert.Equal(ErrorCodes.BadOption, error.Code);
        Assert.Contains("--held-out-samples", error.Message);
        Assert.Contains("1 to 100000", error.Hint);
    }

    [Fact]
    public void TheInputConventionBindsFromDsgJsonTheEnvironmentAndTheCommandLine()
    {
        var config = _folder.Write("models/dsg.json", """{ "inputMean": [123.7, 116.3, 103.5], "inputStd": 58, "inputRange": [0, 255] }""");
        var fromFile = Resolve();
        Assert.Equal([123.7, 116.3, 103.5], fromFile.Options.InputMean);
        Assert.Equal([58.0], fromFile.Options.InputStd);
        Assert.Equal(new Dsg.Core.Graph.InputRange(0, 255), fromFile.Options.InputRange);
        Assert.Equal(config, fromFile.Sources["InputMean"]);
        Assert.Equal("123.7,116.3,103.5", OptionCatalog.InputMean.Format(fromFile.Options));
        Assert.Equal("0,255", OptionCatalog.InputRange.Format(fromFile.Options));

        var fromEnvironment = Resolve(environment: Environment(("DSG_INPUT_MEAN", "0.5"), ("DSG_INPUT_STD", "0.25, 0.5,1e-1")));
        Assert.Equal([0.5], fromEnvironment.Options.InputMean);
        Assert.Equal([0.25, 0.5, 0.1], fromEnvironment.Options.InputStd);
        Assert.Equal("DSG_INPUT_STD", fromEnvironment.Sources["InputStd"]);
        Assert.Equal(config, fromEnvironment.Sources["InputRange"]);

        var fromCommandLine = Resolve(new Dictionary<string, string> { ["InputRange"] = "-1,1", ["InputMean"] = "" }, Environment(("DSG_INPUT_MEAN", "0.5")));
        Assert.Equal(new Dsg.Core.Graph.InputRange(-1, 1), fromCommandLine.Options.InputRange);
        Assert.Null(fromCommandLine.Options.InputMean);
        Assert.Equal("--input-range", fromCommandLine.Sources["InputRange"]);

        _folder.Write("models/dsg.json", """{ "inputStd": [1, 0] }""");
        var bad = Assert.Throws<DsgException>(() => Resolve());
        Assert.Equal(ErrorCodes.BadConfiguration, bad.Code);
        Assert.Contains("'inputStd'", bad.Message);
        Assert.Contains("one positive number, or one per input channel", bad.Message);
    }

    [Fact]
    public void EveryOptionHasDistinctNamesInEverySource()
    {
        Assert.Equal(OptionCatalog.All.Count, OptionCatalog.All.Select(d => d.ConfigKey.ToLowerInvariant()).Distinct().Count());
        Assert.Equal(OptionCatalog.All.Count, OptionCatalog.All.Select(d => d.EnvironmentVariable).Distinct().Count());
        Assert.Equal(OptionCatalog.All.Count, OptionCatalog.All.Select(d => d.Flag).Distinct().Count());
        Assert.Equal("DSG_CACHE_DIR", OptionCatalog.CacheDir.EnvironmentVariable);
        Assert.Equal("--batch-size", OptionCatalog.BatchSize.Flag);
        Assert.Equal("minAgreement", OptionCatalog.MinAgreement.ConfigKey);
        // Every default formats and parses back to itself.
        foreach (var definition in OptionCatalog.All)
        {
            var text = definition.Format(DsgOptions.Default);
            if (text is not null)
            {
                Assert.Equal(text, definition.Format(definition.TryApply(DsgOptions.Default, text, _folder.Path)!));
            }
        }
    }
}
