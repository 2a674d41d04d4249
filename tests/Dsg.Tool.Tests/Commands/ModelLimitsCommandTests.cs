using Dsg.Core;
using Dsg.Tests.Shared;
using Dsg.Tool.Running;

namespace Dsg.Tool.Tests.Commands;

/// <summary>The limits on declared sizes are settings like any other: a flag, a DSG_ variable, dsg.json or MSBuild metadata raise them.</summary>
public sealed class ModelLimitsCommandTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private int _productions;

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void InspectPastTheNodeLimitIsDsg0110NamingTheFlagAndARaisedLimitPasses()
    {
        var model = RepoPaths.Model("resnet_fmnist.onnx");

        var refused = InProcessTool.Run("inspect", model, "--max-nodes", "5");

        Assert.True(refused.ExitCode == 1, refused.ToString());
        Assert.StartsWith($"error {ErrorCodes.TooManyNodes}: ", refused.Error);
        Assert.Contains("--max-nodes", refused.Error);
        Assert.Equal(0, InProcessTool.Run("inspect", model, "--max-nodes", "100000").ExitCode);
    }

    [Fact]
    public void QuantizePastTheModelSizeLimitFromTheEnvironmentIsRefusedBeforeAnyWork()
    {
        var run = InProcessTool.Run(["quantize", RepoPaths.Model("resnet_fmnist.onnx"), "--out", _folder.Combine("q.onnx"), "--json", "--cache-dir", _folder.Combine("cache")],
            new Dictionary<string, string> { ["DSG_MAX_MODEL_SIZE"] = "100KB" }, quantizeProducer: Producer);

        Assert.True(run.ExitCode == 1, run.ToString());
        var error = run.Line("error");
        Assert.Equal(ErrorCodes.ModelTooLarge, error.GetProperty("code").GetString());
        Assert.Contains("--max-model-size (MSBuild: MaxModelSize)", error.GetProperty("hint").GetString());
        Assert.Equal(0, _productions);
        Assert.False(Directory.Exists(_folder.Combine("cache")) && Directory.EnumerateFileSystemEntries(_folder.Combine("cache")).Any(e => !e.EndsWith(".tmp", StringComparison.Ordinal) && !e.EndsWith(".lock", StringComparison.Ordinal) && Path.GetFileName(e).Length > 40));
    }

    [Fact]
    public void AnInputShapePastTheLimitIsDsg0109AndAConfigFileRaisesTheLimit()
    {
        var model = RepoPaths.Model("bad/dynamic_spatial.onnx");

        var refused = InProcessTool.Run("inspect", model, "--input-shape", "1,8192,4096", "--json");
        Assert.True(refused.ExitCode == 1, refused.ToString());
        Assert.Equal(ErrorCodes.InputTooLarge, refused.Line("inspect").GetProperty("problems")[0].GetProperty("code").GetString());

        var config = _folder.Write("dsg.json", """{ "maxInputValues": 20000000 }""");
        var show = InProcessTool.Run("config", "show", "--config", config, "--json");
        var setting = show.Line("config").GetProperty("settings").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "MaxInputValues");
        Assert.Equal("20000000", setting.GetProperty("value").GetString());
        Assert.Equal("16777216", setting.GetProperty("default").GetString());
    }

    [Fact]
    public void ALimitBelowOneIsABadOption()
    {
        var run = InProcessTool.Run("inspect", RepoPaths.Model("tiny_cnn.onnx"), "--max-input-values", "0");

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.StartsWith($"error {ErrorCodes.BadOption}: ", run.Error);
    }

    private Task<QuantizeProduct> Producer(QuantizeJob job, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _productions);
        throw new InvalidOperationException("a refused model must not be produced");
    }
}
