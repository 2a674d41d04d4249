using Dsg.Core;
using Dsg.Core.Onnx.Proto;
using Dsg.Tests.Shared;
using Dsg.Tool.Running;
using Google.Protobuf;

namespace Dsg.Tool.Tests.Commands;

/// <summary>
/// Issue 14 through the quantize verb (with a recording producer in place of the pipeline): the user's previous output
/// survives a failed publish, the input is never overwritten through a linked folder, a full cache disk is DSG0801,
/// and a malformed model is a DSG code, not an internal error.
/// </summary>
public sealed class QuantizeOutputSafetyTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private int _productions;

    public void Dispose() => _folder.Dispose();

    private QuantizeProducer Producer(Action<string>? extra = null) => async (job, cancellationToken) =>
    {
        Interlocked.Increment(ref _productions);
        await File.WriteAllTextAsync(Path.Combine(job.Directory, "model.onnx"), "new model", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(job.Directory, "model.report.json"), "{}", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(job.Directory, "model.report.md"), "# new report", cancellationToken);
        extra?.Invoke(job.Directory);
        return new QuantizeProduct(0.97);
    };

    private ToolRun Quantize(string model, string output, QuantizeProducer producer, params string[] extra) =>
        InProcessTool.Run(["quantize", model, "--out", output, "--json", "--cache-dir", _folder.Combine("cache"), .. extra], quantizeProducer: producer);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFailedPublishKeepsThePreviousModelAndReports(bool noCache)
    {
        // The reproduction: an old d/m.onnx, and a folder where d/m.report.md goes. Here the folder appears
        // while the model is produced, so the publish itself fails after the checks before the work passed.
        var output = _folder.Write("d/m.onnx", "old model");
        _folder.Write("d/m.report.json", "old json");
        var blocker = _folder.Combine("d", "m.report.md");

        var run = Quantize(RepoPaths.Model("resnet_fmnist.onnx"), output, Producer(_ => Directory.CreateDirectory(blocker)), noCache ? ["--no-cache"] : []);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal(1, _productions);
        var error = run.Line("error");
        Assert.Equal(ErrorCodes.OutputUnwritable, error.GetProperty("code").GetString());
        Assert.Contains("previous output is unchanged", error.GetProperty("hint").GetString());
        Assert.Equal("old model", File.ReadAllText(output));
        Assert.Equal("old json", File.ReadAllText(_folder.Combine("d", "m.report.json")));
        Assert.Equal(new[] { "m.onnx", "m.report.json", "m.report.md" },
            Directory.EnumerateFileSystemEntries(_folder.Combine("d")).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        // With the folder gone the same command replaces the whole set.
        Directory.Delete(blocker);
        Assert.Equal(0, Quantize(RepoPaths.Model("resnet_fmnist.onnx"), output, Producer(), noCache ? ["--no-cache"] : []).ExitCode);
        Assert.Equal("new model", File.ReadAllText(output));
        Assert.Equal("{}", File.ReadAllText(_folder.Combine("d", "m.report.json")));
        Assert.Equal("# new report", File.ReadAllText(blocker));
    }

    [Fact]
    public void AFolderWhereAReportGoesIsRefusedBeforeAnyWork()
    {
        var output = _folder.Write("d/m.onnx", "old model");
        Directory.CreateDirectory(_folder.Combine("d", "m.report.md"));

        var run = Quantize(RepoPaths.Model("resnet_fmnist.onnx"), output, Producer());

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal(ErrorCodes.OutputUnwritable, run.Line("error").GetProperty("code").GetString());
        Assert.Contains("m.report.md' is a folder", run.Line("error").GetProperty("message").GetString());
        Assert.Equal(0, _productions);
        Assert.Equal("old model", File.ReadAllText(output));
    }

    [Fact]
    public void AnOutputThatReachesTheInputThroughALinkedFolderIsRefused()
    {
        // Issue 14, item 2: `ln -s real alias; quantize real/model.onnx --out alias/model.onnx` replaced the fp32 model.
        var real = Directory.CreateDirectory(_folder.Combine("real")).FullName;
        var model = Path.Combine(real, "model.onnx");
        File.Copy(RepoPaths.Model("resnet_fmnist.onnx"), model);
        var before = File.ReadAllBytes(model);
        Directory.CreateSymbolicLink(_folder.Combine("alias"), real);

        var run = Quantize(model, _folder.Combine("alias", "model.onnx"), Producer());

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal(ErrorCodes.OutputUnwritable, run.Line("error").GetProperty("code").GetString());
        Assert.Contains("input model", run.Line("error").GetProperty("message").GetString());
        Assert.Equal(before, File.ReadAllBytes(model));
        Assert.Equal(0, _productions);
    }

    [Fact]
    public void AFullCacheDiskIsTheCacheCodeNotAnInternalError()
    {
        var run = Quantize(RepoPaths.Model("resnet_fmnist.onnx"), _folder.Combine("out", "m.onnx"), Producer(_ =>
        {
            using var full = new FileStream("/dev/full", FileMode.Open, FileAccess.Write);
            full.Write(new byte[1 << 16]);
            full.Flush();
        }));

        Assert.True(run.ExitCode == 1, run.ToString());
        var error = run.Line("error");
        Assert.Equal(ErrorCodes.CacheUnwritable, error.GetProperty("code").GetString());
        Assert.Contains("the disk is full", error.GetProperty("message").GetString());
        Assert.False(File.Exists(_folder.Combine("out", "m.onnx")));
    }

    [Fact]
    public void ADeniedPermissionAtTheOutputIsTheOutputCode()
    {
        // sysfs refuses new files even to root: a real EACCES while publishing from the cache.
        var run = Quantize(RepoPaths.Model("resnet_fmnist.onnx"), "/sys/dsg-test.onnx", Producer());

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal(ErrorCodes.OutputUnwritable, run.Line("error").GetProperty("code").GetString());
        Assert.Contains("permission denied", run.Line("error").GetProperty("message").GetString());
    }

    [Fact]
    public void AGraphWithoutOutputsIsACodedErrorForInspectAndQuantize()
    {
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(RepoPaths.Model("resnet_fmnist.onnx")));
        proto.Graph.Output.Clear();
        var model = _folder.Combine("no-outputs.onnx");
        File.WriteAllBytes(model, proto.ToByteArray());

        var inspect = InProcessTool.Run("inspect", model);
        Assert.True(inspect.ExitCode == 1, inspect.ToString());
        Assert.StartsWith($"error {ErrorCodes.MalformedModel}: ", inspect.Error);
        Assert.Contains("no outputs", inspect.Error);

        var quantize = Quantize(model, _folder.Combine("out", "m.onnx"), Producer());
        Assert.True(quantize.ExitCode == 1, quantize.ToString());
        Assert.Equal(ErrorCodes.MalformedModel, quantize.Line("error").GetProperty("code").GetString());
        Assert.Equal(0, _productions);
    }

    [Fact]
    public void CacheListShowsTheSeed()
    {
        Assert.Equal(0, Quantize(RepoPaths.Model("resnet_fmnist.onnx"), _folder.Combine("out", "a.onnx"), Producer(), "--seed", "5").ExitCode);
        Assert.Equal(0, Quantize(RepoPaths.Model("resnet_fmnist.onnx"), _folder.Combine("out", "b.onnx"), Producer(), "--seed", "6").ExitCode);

        var list = InProcessTool.Run("cache", "list", "--cache-dir", _folder.Combine("cache"));

        Assert.Contains("seed 5,", list.Output);
        Assert.Contains("seed 6,", list.Output);
    }
}
