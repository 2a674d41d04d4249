namespace Dsg.Tool.Tests.Integration;

/// <summary>The built tool as a real process: the process environment and exit codes, not an injected environment.</summary>
public sealed class BuiltToolProcessTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task ProcessEnvironmentVariablesSitBetweenDsgJsonAndFlags()
    {
        var config = _folder.Write("models/dsg.json", """{ "samples": 100, "seed": 5, "iterations": 7 }""");
        var model = _folder.Combine("models", "m.onnx");
        var run = await ProcessTool.RunAsync(["config", "show", model, "--json", "--seed", "9"],
            new Dictionary<string, string> { ["DSG_SAMPLES"] = "64", ["DSG_SEED"] = "6", ["DSG_UNRELATED_THING"] = "x" });
        Assert.True(run.ExitCode == 0, run.ToString());
        var settings = run.Line("config").GetProperty("settings").EnumerateArray()
            .ToDictionary(s => s.GetProperty("key").GetString()!, s => (s.GetProperty("value").GetString(), s.GetProperty("source").GetString()));
        Assert.Equal(("64", "DSG_SAMPLES"), settings["samples"]);
        Assert.Equal(("9", "--seed"), settings["seed"]);
        Assert.Equal(("7", config), settings["iterations"]);
    }

    [Fact]
    public async Task BadEnvironmentValueExitsOneWithItsCode()
    {
        var run = await ProcessTool.RunAsync(["config", "show"], new Dictionary<string, string> { ["DSG_PRECISION"] = "W9A9" });
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("error DSG0301: Invalid value 'W9A9' for environment variable DSG_PRECISION", run.Error);
    }
}
