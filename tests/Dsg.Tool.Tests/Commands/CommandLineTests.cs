using System.CommandLine;
using Dsg.Core;
using Dsg.Tool.Commands;

namespace Dsg.Tool.Tests.Commands;

public sealed class CommandLineTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void VersionPrintsSemVerOnTheFirstLine()
    {
        var run = InProcessTool.Run("--version");
        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$", run.Output.Split('\n')[0].Trim());
    }

    [Fact]
    public void HelpListsVerbsAndExamples()
    {
        var run = InProcessTool.Run("--help");
        Assert.Equal(0, run.ExitCode);
        foreach (var verb in new[] { "inspect", "config", "cache" })
        {
            Assert.Contains(verb, run.Output);
        }

        Assert.Contains("Examples:", run.Output);
        Assert.Contains("Examples:\n  dotnet dsg inspect model.onnx\n", InProcessTool.Run("inspect", "--help").Output.Replace("\r", ""));
    }

    [Fact]
    public void UnknownOptionIsAUsageErrorWithItsCode()
    {
        var run = InProcessTool.Run("cache", "list", "--colour");
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith($"error {ErrorCodes.CommandLineUsage}: ", run.Error);
        Assert.Contains("--colour", run.Error);
        Assert.Contains("dotnet dsg cache list --help", run.Error);

        var json = InProcessTool.Run("inspect", "--json");
        Assert.Equal(1, json.ExitCode);
        Assert.Equal(ErrorCodes.CommandLineUsage, json.Line("error").GetProperty("code").GetString());
    }

    [Fact]
    public void NoCommandPrintsTheHelpAndExitsOne()
    {
        var run = InProcessTool.Run();

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("quantize", run.Output);
        Assert.Contains("Examples:", run.Output);
        Assert.StartsWith($"error {ErrorCodes.CommandLineUsage}: ", run.Error);
    }

    [Theory]
    [InlineData("quantise m.onnx -o q.onnx", "Did you mean 'quantize'?")]
    [InlineData("quantize m.onnx -o q.onnx --precison W4A8", "Did you mean '--precision'?")]
    [InlineData("cache lsit", "Did you mean 'list'?")]
    [InlineData("inspect m.onnx --verbse", "Did you mean '--verbose'?")]
    public void ATypoGetsTheNearestCommandOrOptionAndKeepsItsCode(string commandLine, string suggestion)
    {
        var run = InProcessTool.Run(commandLine.Split(' '));

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith($"error {ErrorCodes.CommandLineUsage}: ", run.Error);
        Assert.Contains(suggestion, run.Error);
        Assert.DoesNotContain("Examples:", run.Output);
    }

    [Fact]
    public void NothingCloseGetsNoSuggestion()
    {
        var run = InProcessTool.Run("cache", "list", "--colour");

        Assert.DoesNotContain("Did you mean", run.Error);
    }

    [Fact]
    public void HelpShowsEachSettingsDefaultFromTheRecord()
    {
        var help = InProcessTool.Run("quantize", "--help").Output.Replace("\r", "");

        Assert.Matches(@"--seed <N>\s[^\n]*(\n\s{10,}[^\n]*)*\[default: 0\]", help);
        Assert.Contains("[default: W8A8]", help);
        Assert.Contains("[default: 7200]", help);
        Assert.Contains("MSBuild Samples]", help);
        Assert.Contains("MSBuild property DsgRemoteCache]", help);
        Assert.DoesNotContain("--msbuild-metadata", help);
        Assert.Contains("--device <auto|cpu|cuda>", help);
        Assert.Contains("--output-kind <auto|logits|probabilities|embedding|dense>", help);
    }

    [Fact]
    public void BadOptionValueIsCodedAndNamesTheFlag()
    {
        var run = InProcessTool.Run("config", "show", "--samples", "0");
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith($"error {ErrorCodes.BadOption}: Invalid value '0' for option --samples", run.Error);
    }

    [Fact]
    public void UnexpectedExceptionExitsTwoWithoutStackUnlessDebugging()
    {
        static ToolRun RunFailing(Dictionary<string, string> variables, params string[] args)
        {
            var output = new StringWriter();
            var error = new StringWriter();
            var environment = new ToolEnvironment(output, error, variables);
            var global = new GlobalOptions(environment);
            var root = new RootCommand { global.Verbose };
            var boom = new Command("boom");
            root.Add(boom);
            VerbAction.Set(boom, global, null, _ => throw new InvalidOperationException("the sky fell"));
            int exit = root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
            return new ToolRun(exit, output.ToString(), error.ToString());
        }

        var quiet = RunFailing([], "boom");
        Assert.Equal(2, quiet.ExitCode);
        Assert.Contains("internal error: InvalidOperationException: the sky fell", quiet.Error);
        Assert.DoesNotContain("   at ", quiet.Error);

        Assert.Contains("   at ", RunFailing(new() { ["DSG_DEBUG"] = "1" }, "boom").Error);
        Assert.Contains("   at ", RunFailing([], "boom", "--verbose").Error);
    }

    [Fact]
    public async Task CancelledRunExits130WithTheCancelledCode()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var environment = new ToolEnvironment(output, error, new Dictionary<string, string>());
        var global = new GlobalOptions(environment);
        var root = new RootCommand { global.Verbose };
        var slow = new Command("slow");
        var json = GlobalOptions.Json("json");
        slow.Add(json);
        root.Add(slow);
        VerbAction.Set(slow, global, json, async context =>
        {
            await Task.Delay(TimeSpan.FromMinutes(1), context.CancellationToken);
            return 0;
        });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        int exit = await root.Parse(["slow", "--json"]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null }, cancel.Token);
        Assert.Equal(130, exit);
        Assert.Contains($"\"code\":\"{ErrorCodes.Cancelled}\"", output.ToString());
    }

    [Fact]
    public void ConfigShowNamesEverySource()
    {
        var model = _folder.Combine("models", "m.onnx");
        var config = _folder.Write("models/dsg.json", """{ "iterations": 20 }""");
        var run = InProcessTool.Run(["config", "show", model, "--precision", "W4A4", "--json"], new Dictionary<string, string> { ["DSG_SAMPLES"] = "64" });
        Assert.True(run.ExitCode == 0, run.ToString());
        var settings = run.Line("config").GetProperty("settings").EnumerateArray()
            .ToDictionary(s => s.GetProperty("key").GetString()!, s => (Value: s.GetProperty("value").GetString(), Source: s.GetProperty("source").GetString()));
        Assert.Equal(("W4A4", "--precision"), settings["precision"]);
        Assert.Equal(("64", "DSG_SAMPLES"), settings["samples"]);
        Assert.Equal(("20", config), settings["iterations"]);
        Assert.Equal(("64", "default"), settings["batchSize"]);

        var text = InProcessTool.Run(["config", "show", model], new Dictionary<string, string> { ["DSG_SAMPLES"] = "64" });
        Assert.Matches(@"samples\s+64\s+DSG_SAMPLES", text.Output);
        Assert.Contains($"dsg.json: {config}", text.Output);
    }

    [Fact]
    public void ConfigShowListsTheAblationsAndEveryEffectiveTermWeight()
    {
        var run = InProcessTool.Run(["config", "show", _folder.Combine("m.onnx"), "--without", "SCI,lse"], new Dictionary<string, string> { ["DSG_TERM_WEIGHTS"] = "class=5" });
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Matches(@"
without\s+lse,sci\s+--without
?
", run.Output);
        Assert.Matches(@"
termWeights\s+bn=[0-9.]+,bn-batch=[0-9.]+,class=5,input-stats=[0-9.]+,l2=[0-9.]+,sci=[0-9.]+,tv=[0-9.]+\s+DSG_TERM_WEIGHTS
?
", run.Output);
    }

    [Fact]
    public void CachePathFollowsFlagThenEnvironmentThenXdg()
    {
        var env = new Dictionary<string, string> { ["XDG_CACHE_HOME"] = _folder.Combine("xdg") };
        Assert.Equal(_folder.Combine("xdg", "dsg"), InProcessTool.Run(["cache", "path"], env).Output.Trim());
        env["DSG_CACHE_DIR"] = _folder.Combine("from-env");
        Assert.Equal(_folder.Combine("from-env"), InProcessTool.Run(["cache", "path"], env).Output.Trim());
        Assert.Equal(_folder.Combine("from-flag"), InProcessTool.Run(["cache", "path", "--cache-dir", _folder.Combine("from-flag")], env).Output.Trim());
    }
}
