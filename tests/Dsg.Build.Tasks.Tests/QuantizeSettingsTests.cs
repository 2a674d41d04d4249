using Microsoft.Build.Utilities;

namespace Dsg.Build.Tasks.Tests;

public sealed class QuantizeSettingsTests
{
    private static readonly string s_project = Path.Combine(Path.GetTempPath(), "proj");

    private static (QuantizeSettings Settings, List<KeyValuePair<string, string>> Problems) Read(string include, params (string Name, string Value)[] metadata)
    {
        var item = new TaskItem(include);
        foreach (var (name, value) in metadata)
        {
            item.SetMetadata(name, value);
        }

        var problems = new List<KeyValuePair<string, string>>();
        return (QuantizeSettings.Read(item, s_project, problems), problems);
    }

    [Fact]
    public void EmptyMetadataLeavesEveryBudgetToTheToolAndNamesTheOutputInt8()
    {
        var (s, problems) = Read("Models/net.onnx");

        Assert.Empty(problems);
        Assert.Equal(["precision=W8A8"], s.NormalizedOptions);
        Assert.Equal([new("--precision", "W8A8")], s.ToolOptions());
        Assert.Equal("net.int8.onnx", s.OutputName);
        Assert.Equal(Path.Combine("Models", "net.int8.onnx"), s.Link);
        Assert.Equal("net.int8.onnx", s.LogicalName);
        Assert.False(s.Embed);
    }

    [Theory]
    [InlineData("W4A4", "net.w4a4.onnx")]
    [InlineData("w4a8", "net.w4a8.onnx")]
    [InlineData("W6A6", "net.w6a6.onnx")]
    [InlineData("w8a8", "net.int8.onnx")]
    public void PrecisionIsCaseInsensitiveAndChoosesTheOutputSuffix(string precision, string outputName)
    {
        var (s, problems) = Read("net.onnx", ("Precision", precision));

        Assert.Empty(problems);
        Assert.Equal(outputName, s.OutputName);
        Assert.Equal("precision=" + precision.ToUpperInvariant(), s.NormalizedOptions[0]);
    }

    [Fact]
    public void EveryOptionIsNormalisedAndPassedToTheTool()
    {
        string calibration = Path.GetTempFileName();
        var (s, problems) = Read("net.onnx",
            ("Precision", "W4A8"), ("Method", "ZeroQ"), ("Samples", "064"), ("HeldOutSamples", "016"), ("Iterations", "20"), ("BatchSize", "16"),
            ("Seed", "7"), ("Device", "CPU"), ("Recipe", "Paper"), ("Observer", "Percentile"), ("InputShape", "1x28x28"),
            ("MinAgreement", "0.950"), ("CalibrationData", calibration), ("Threads", "2"));

        Assert.Empty(problems);
        Assert.Equal(
            ["precision=W4A8", "method=zeroq", "samples=64", "held-out-samples=16", "iterations=20", "batch-size=16", "seed=7", "device=cpu",
             "recipe=paper", "observer=percentile", "input-shape=1,28,28", "min-agreement=0.95", "calibration-data=" + calibration],
            s.NormalizedOptions);
        Assert.Equal(calibration, Assert.Single(s.ExtraInputs));
        string args = string.Join(" ", s.ToolOptions().Select(o => o.Key + " " + o.Value));
        Assert.Contains("--min-agreement 0.95", args, StringComparison.Ordinal);
        Assert.EndsWith("--threads 2", args, StringComparison.Ordinal);
    }

    [Fact]
    public void AblationMetadataIsNormalisedSoItsOrderAndSpellingDoNotRerunGeneration()
    {
        var (s, problems) = Read("net.onnx", ("Without", "SCI, class,sci"), ("TermWeights", "class=5, BN=2.50"));
        var (reordered, _) = Read("net.onnx", ("Without", "class,sci"), ("TermWeights", "bn=2.5,class=5e0"));

        Assert.Empty(problems);
        Assert.Equal(["precision=W8A8", "without=class,sci", "term-weights=bn=2.5,class=5"], s.NormalizedOptions);
        Assert.Equal(s.NormalizedOptions, reordered.NormalizedOptions);
        string args = string.Join(" ", s.ToolOptions().Select(o => o.Key + " " + o.Value));
        Assert.Contains("--without class,sci --term-weights bn=2.5,class=5", args, StringComparison.Ordinal);
        Assert.Equal(["precision=W8A8", "without=none"], Read("net.onnx", ("Without", "None")).Settings.NormalizedOptions);
    }

    [Fact]
    public void ThreadsDoNotChangeTheNormalisedOptionsSoTheyDoNotRerunGeneration()
    {
        var (without, _) = Read("net.onnx", ("Samples", "32"));
        var (with, _) = Read("net.onnx", ("Samples", "32"), ("Threads", "4"));

        Assert.Equal(without.NormalizedOptions, with.NormalizedOptions);
    }

    [Theory]
    [InlineData("Precision", "W3A3", "one of W8A8, W6A6, W4A8, W4A4")]
    [InlineData("Method", "magic", "one of dsg, zeroq, gaussian")]
    [InlineData("Samples", "many", "a whole number from 1 to 1000000")]
    [InlineData("Samples", "0", "a whole number from 1 to 1000000")]
    [InlineData("HeldOutSamples", "0", "a whole number from 1 to 100000")]
    [InlineData("HeldOutSamples", "100001", "a whole number from 1 to 100000")]
    [InlineData("Iterations", "-1", "a whole number from 1 to 100000")]
    [InlineData("Iterations", "0", "a whole number from 1 to 100000")]
    [InlineData("Iterations", "200000", "a whole number from 1 to 100000")]
    [InlineData("Budget", "quick", "one of fast, default, thorough")]
    [InlineData("BatchSize", "5000", "a whole number from 1 to 4096")]
    [InlineData("Threads", "2.5", "a whole number from 0 to 1024")]
    [InlineData("Seed", "x", "a whole number of 0 or more")]
    [InlineData("Device", "gpu", "one of auto, cpu, cuda")]
    [InlineData("Observer", "max", "one of minmax, percentile, mse, entropy, ema")]
    [InlineData("Recipe", "fast", "one of default, paper")]
    [InlineData("OutputKind", "softmax", "one of auto, logits, probabilities, embedding, dense")]
    [InlineData("MinAgreement", "95", "a fraction between 0 and 1")]
    [InlineData("InputShape", "224", "C,H,W as three whole numbers")]
    [InlineData("Without", "sci,magic", "none or a comma-separated list of class, input-stats, lse, priors, sci, slack")]
    [InlineData("Without", "none,sci", "none or a comma-separated list of")]
    [InlineData("TermWeights", "bn", "comma-separated NAME=VALUE pairs, NAME one of bn, class, input-stats, l2, sci, tv")]
    [InlineData("TermWeights", "gamma=1", "NAME one of bn, class, input-stats, l2, sci, tv")]
    [InlineData("TermWeights", "bn=-1", "VALUE a number from 0 to 1e6")]
    [InlineData("TermWeights", "bn=NaN", "VALUE a number from 0 to 1e6")]
    [InlineData("TermWeights", "bn=1,bn=2", "each at most once")]
    [InlineData("InputMean", "0.5;0.4", "one number, or one per input channel, comma-separated")]
    [InlineData("InputMean", "NaN", "one number, or one per input channel")]
    [InlineData("InputStd", "1,0", "one positive number, or one per input channel")]
    [InlineData("InputStd", "-58", "one positive number")]
    [InlineData("InputRange", "255,0", "MIN,MAX as two numbers with MIN < MAX")]
    [InlineData("InputRange", "0,1,2", "MIN,MAX as two numbers with MIN < MAX")]
    [InlineData("Embed", "yes", "true or false")]
    [InlineData("OutputName", "../x.onnx", "without '..'")]
    [InlineData("CalibrationData", "no/such.npy", "an existing file")]
    public void BadMetadataIsReportedWithTheAllowedValues(string name, string value, string expected)
    {
        var (_, problems) = Read("net.onnx", (name, value));

        var problem = Assert.Single(problems);
        Assert.Equal(name, problem.Key);
        Assert.Contains($"{name}=\"{value}\" is not valid", problem.Value, StringComparison.Ordinal);
        Assert.Contains(expected, problem.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void BudgetIsNormalisedToLowerCaseAndPassedToTheTool()
    {
        var (s, problems) = Read("net.onnx", ("Budget", " Fast "));

        Assert.Empty(problems);
        Assert.Contains("budget=fast", s.NormalizedOptions);
        Assert.Contains(new KeyValuePair<string, string>("--budget", "fast"), s.ToolOptions());
        Assert.DoesNotContain(Read("net.onnx", ("Budget", "")).Settings.NormalizedOptions, o => o.StartsWith("budget=", StringComparison.Ordinal));
    }

    [Fact]
    public void OutputKindIsNormalisedToLowerCaseAndPassedToTheTool()
    {
        var (s, problems) = Read("net.onnx", ("OutputKind", " Embedding "));

        Assert.Empty(problems);
        Assert.Equal(["precision=W8A8", "output-kind=embedding"], s.NormalizedOptions);
        Assert.Contains(new KeyValuePair<string, string>("--output-kind", "embedding"), s.ToolOptions());
        Assert.Equal(["precision=W8A8"], Read("net.onnx", ("OutputKind", "")).Settings.NormalizedOptions);
    }

    [Fact]
    public void InputConventionMetadataIsNormalisedSoItsSpellingDoesNotRerunGeneration()
    {
        var (s, problems) = Read("net.onnx", ("InputMean", "123.70, 116.3,103.5"), ("InputStd", "58.0"), ("InputRange", "-1 , 1e0"));
        var (respelled, _) = Read("net.onnx", ("InputMean", "1.237e2,116.30,103.5"), ("InputStd", "58"), ("InputRange", "-1.0,1"));

        Assert.Empty(problems);
        Assert.Equal(["precision=W8A8", "input-mean=123.7,116.3,103.5", "input-std=58", "input-range=-1,1"], s.NormalizedOptions);
        Assert.Equal(s.NormalizedOptions, respelled.NormalizedOptions);
        string args = string.Join(" ", s.ToolOptions().Select(o => o.Key + " " + o.Value));
        Assert.Contains("--input-mean 123.7,116.3,103.5 --input-std 58 --input-range -1,1", args, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelOutsideTheProjectGoesToTheRootOfTheOutputFolder()
    {
        var (s, _) = Read("../models/net.onnx", ("OutputName", "q/net-small.onnx"), ("Embed", "true"));

        Assert.Equal(Path.Combine("q", "net-small.onnx"), s.Link.Replace('/', Path.DirectorySeparatorChar));
        Assert.Equal("net-small.onnx", s.LogicalName);
        Assert.True(s.Embed);
    }
}
