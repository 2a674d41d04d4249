using System.Text.Json;
using Dsg.Core.Caching;
using Dsg.Tests.Shared;

namespace Dsg.Tool.Tests.RemoteCache;

/// <summary>The built tool and the real pipeline (Gaussian samples on the 28x28 test model, seconds) against a real nginx, as separate processes.</summary>
[Trait("Category", "Slow")]
public sealed class RemoteCacheProcessTests : IClassFixture<NginxServer>, IDisposable
{
    private readonly NginxServer _nginx;
    private readonly TempFolder _folder = new();

    public RemoteCacheProcessTests(NginxServer nginx) => _nginx = nginx;

    public void Dispose() => _folder.Dispose();

    private string[] QuantizeArgs(string machine, string url) =>
        ["quantize", RepoPaths.Model("tiny_cnn.onnx"), "--out", _folder.Combine(machine, "q.onnx"), "--json", "--cache-dir", _folder.Combine(machine, "cache"),
         "--method", "gaussian", "--samples", "8", "--batch-size", "8", "--threads", "1", "--remote-cache", url];

    private static int GenerationStarts(ToolRun run) => run.JsonLines.Count(l =>
        l.GetProperty("type").GetString() == "phase" && l.GetProperty("phase").GetString() == "generate" && l.GetProperty("status").GetString() == "start");

    private static IEnumerable<JsonElement> Warnings(ToolRun run) => run.JsonLines.Where(l => l.GetProperty("type").GetString() == "warning");

    [Fact]
    public async Task AColdMachineWithAWarmRemoteGeneratesNothingAndWritesIdenticalBytes()
    {
        var (url, onDisk) = _nginx.NewFolder();

        var first = await ProcessTool.RunAsync(QuantizeArgs("a", url));
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.True(first.Line("result").GetProperty("uploaded").GetBoolean());
        Assert.Equal(1, GenerationStarts(first));

        var second = await ProcessTool.RunAsync(QuantizeArgs("b", url));
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.True(second.Line("result").GetProperty("remoteHit").GetBoolean());
        Assert.Equal(0, GenerationStarts(second));
        Assert.Empty(Warnings(second));
        Assert.Equal(File.ReadAllBytes(_folder.Combine("a", "q.onnx")), File.ReadAllBytes(_folder.Combine("b", "q.onnx")));
        Assert.True(File.Exists(_folder.Combine("b", "q.report.json")));
        Assert.Equal([first.Line("result").GetProperty("cacheKey").GetString()!], NginxServer.FilesIn(onDisk));
    }

    [Fact]
    public async Task TwoProcessesRacingToUploadOneKeyBothSucceedAndLeaveOneWholeEntry()
    {
        var (url, onDisk) = _nginx.NewFolder();

        var runs = await Task.WhenAll(ProcessTool.RunAsync(QuantizeArgs("a", url)), ProcessTool.RunAsync(QuantizeArgs("b", url)));

        foreach (var run in runs)
        {
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Empty(Warnings(run));
        }

        var key = runs[0].Line("result").GetProperty("cacheKey").GetString()!;
        Assert.Equal(key, runs[1].Line("result").GetProperty("cacheKey").GetString());
        // Whoever moved first holds the key; the other found it taken (or, if it started late, downloaded it). No temporary names are left.
        Assert.Equal([key], NginxServer.FilesIn(onDisk));
        Assert.Equal(1, runs.Count(r => r.Line("result").GetProperty("uploaded").GetBoolean()));

        // A third machine pulls it and checks every hash.
        var pull = await ProcessTool.RunAsync(["cache", "pull", key, "--cache-dir", _folder.Combine("c", "cache"), "--remote-cache", url, "--json"]);
        Assert.True(pull.ExitCode == 0, pull.ToString());
        Assert.Equal("copied", pull.Line("cache").GetProperty("entries")[0].GetProperty("outcome").GetString());
        Assert.Equal(File.ReadAllBytes(_folder.Combine("a", "q.onnx")), File.ReadAllBytes(_folder.Combine("b", "q.onnx")));
    }
}
