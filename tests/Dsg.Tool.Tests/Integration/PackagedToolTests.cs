using Dsg.Core;
using Dsg.Core.Data;
using Dsg.Core.Onnx;
using Dsg.Core.Runtime;
using Dsg.Tests.Shared;

namespace Dsg.Tool.Tests.Integration;

[Trait("Category", "Slow")]
public sealed class PackagedToolTests : IClassFixture<InstalledTool>
{
    private readonly InstalledTool _tool;

    public PackagedToolTests(InstalledTool tool) => _tool = tool;

    [Fact]
    public void PackageCarriesLinuxX64NativesOnlyAndThePatchedLibTorchSharp()
    {
        var natives = _tool.PackageEntries().Where(e => e.Contains("/runtimes/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(natives);
        Assert.All(natives, e => Assert.Contains("/runtimes/linux-x64/native/", e));
        Assert.Contains(natives, e => e.EndsWith("/libtorch_cpu.so", StringComparison.Ordinal));
        Assert.Contains(natives, e => e.EndsWith("/libonnxruntime.so", StringComparison.Ordinal));
        Assert.DoesNotContain(natives, e => e.EndsWith("/libtorch_python.so", StringComparison.Ordinal));

        var installed = Directory.GetFiles(_tool.ToolPath, "libLibTorchSharp.so", SearchOption.AllDirectories);
        var needs = ElfVersionNeeds.Read(Assert.Single(installed));
        Assert.Equal(2, needs["GLIBCXX_3.4.32"] & 2);
        Assert.Equal(0, needs["GLIBCXX_3.4.19"] & 2);
    }

    [Fact]
    public async Task InstalledCommandPrintsItsVersionAndInspects()
    {
        var version = await ProcessTool.RunAsync(["--version"], executable: _tool.Command);
        Assert.Equal(0, version.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", version.Output);

        var ready = await ProcessTool.RunAsync(["inspect", RepoPaths.Model("resnet_fmnist.onnx")], executable: _tool.Command);
        Assert.True(ready.ExitCode == 0, ready.ToString());
        Assert.Contains("DSG ready     yes", ready.Output);

        var folded = await ProcessTool.RunAsync(["inspect", RepoPaths.Model("resnet_fmnist_folded.onnx")], executable: _tool.Command);
        Assert.Equal(1, folded.ExitCode);
        Assert.StartsWith($"error {ErrorCodes.NoBatchNorm}:", folded.Error);
        Assert.Contains("TrainingMode.PRESERVE", folded.Error);
    }

    [Fact]
    public async Task InstalledCommandQuantizesAndOnnxRuntimeRunsTheOutput()
    {
        using var folder = new TempFolder();
        var output = folder.Combine("out", "resnet.int8.onnx");
        var run = await ProcessTool.RunAsync(
            ["quantize", RepoPaths.Model("tiny_cnn.onnx"), "--out", output, "--json", "--cache-dir", folder.Combine("cache"), .. Integration.QuantizeProcessTests.TinyBudget, "--iterations", "2"],
            executable: _tool.Command);
        Assert.True(run.ExitCode == 0, run.ToString());
        var result = run.Line("result");
        Assert.Equal(output, result.GetProperty("output").GetString());
        Assert.False(result.GetProperty("cacheHit").GetBoolean());
        Assert.Equal(64, result.GetProperty("cacheKey").GetString()!.Length);
        Assert.InRange(result.GetProperty("agreement").GetDouble(), 0.0, 1.0);
        Assert.Contains(run.JsonLines, l => l.GetProperty("type").GetString() == "progress" && l.GetProperty("phase").GetString() == "generate");

        var quantized = OnnxModel.Load(output);
        Assert.Contains(quantized.Graph.Node, n => n.OpType == "QuantizeLinear");
        var data = NpyFile.ReadFloat32(RepoPaths.Data("fmnist_test_64.npy"));
        using var runner = new OnnxRuntimeRunner(quantized, threads: 1);
        var logits = runner.RunFirstOutput(data.Data.AsMemory(0, 4 * 28 * 28), [4, 1, 28, 28]);
        Assert.Equal(40, logits.Length);
        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
    }
}
