using Dsg.Tests.Shared;
using Xunit.Abstractions;

namespace Dsg.Build.Tasks.Tests.Integration;

/// <summary>
/// The sample app built with the packed Dsg.Build and the real tool from this repository (src/Dsg.Tool's apphost):
/// real generation with the sample's small budget, the app classifying with the int8 model, a fresh clone that
/// shares the cache finishing without generating, and one with an empty cache that downloads from a remote cache (nginx).
/// </summary>
[Collection(SampleAppCollection.Name)]
[Trait("Category", "Slow")]
public sealed class SampleAppRealToolTests
{
    private const string OutputName = "resnet_fmnist.int8.onnx";
    private readonly PackedFeedFixture _feed;
    private readonly ITestOutputHelper _log;

    public SampleAppRealToolTests(PackedFeedFixture feed, ITestOutputHelper log)
    {
        _feed = feed;
        _log = log;
    }

    [Fact]
    public void RealToolQuantizesTheSampleAndAFreshCloneWithAWarmCacheDoesNotGenerate()
    {
        // A missing precondition (tool not built, no quantize verb) fails the test: it never passes without checking.
        string? tool = BuiltDsgTool.FindWithQuantize(out string reason);
        Assert.True(tool is not null, "Precondition missing: " + reason);

        string cache = Path.Combine(_feed.Root, "real-cache");
        var first = SampleAppCopy.Create(_feed, "real-first", tool, cache);
        CliResult cold = _log.Succeeds(first.Build(), "first build, cold cache");
        Assert.Contains($"Dsg: ../models/resnet_fmnist.onnx -> {OutputName} (generated in", cold.Output, StringComparison.Ordinal);
        byte[] quantized = File.ReadAllBytes(Path.Combine(first.BinDir, OutputName));
        Assert.True(quantized.Length < new FileInfo(first.ModelPath).Length, "the int8 model should be smaller than the fp32 one");
        Assert.StartsWith("Trouser ", _log.Succeeds(first.Run(), "app").Output, StringComparison.Ordinal);

        CliResult noop = _log.Succeeds(first.Build(), "no-op build");
        Assert.DoesNotContain("Dsg: ../models", noop.Output, StringComparison.Ordinal);

        var clone = SampleAppCopy.Create(_feed, "real-clone", tool, cache);
        CliResult warm = _log.Succeeds(clone.Build(), "fresh clone, warm cache");
        Assert.True(warm.Output.Contains($"Dsg: ../models/resnet_fmnist.onnx -> {OutputName} (cache hit", StringComparison.Ordinal),
            "the warm-cache build did not report a cache hit:" + Environment.NewLine + warm.Output);
        Assert.Equal(quantized, File.ReadAllBytes(Path.Combine(clone.BinDir, OutputName)));
    }

    [Fact]
    public void AFreshCloneWithAnEmptyLocalCacheAndAWarmRemoteCacheSaysRemoteHitAndDoesNotGenerate()
    {
        string? tool = BuiltDsgTool.FindWithQuantize(out string reason);
        Assert.True(tool is not null, "Precondition missing: " + reason);
        using var nginx = new NginxServer();
        var (url, onDisk) = nginx.NewFolder();

        // The CI job on main: readwrite, the default; it generates and uploads.
        var main = SampleAppCopy.Create(_feed, "remote-main", tool);
        CliResult cold = _log.Succeeds(main.Build("-p:DsgRemoteCache=" + url), "first build, empty caches");
        Assert.Contains($"Dsg: ../models/resnet_fmnist.onnx -> {OutputName} (generated in", cold.Output, StringComparison.Ordinal);
        Assert.Contains("uploaded to the remote cache", cold.Output, StringComparison.Ordinal);
        Assert.Single(NginxServer.FilesIn(onDisk));

        // A pull-request job on another runner: a clean checkout, an empty local cache, the remote read-only.
        var pullRequest = SampleAppCopy.Create(_feed, "remote-pr", tool);
        CliResult warm = _log.Succeeds(pullRequest.Build("-p:DsgRemoteCache=" + url, "-p:DsgRemoteCacheMode=read"), "fresh clone, empty local cache, warm remote");
        Assert.True(warm.Output.Contains($"Dsg: ../models/resnet_fmnist.onnx -> {OutputName} (remote hit", StringComparison.Ordinal),
            "the warm-remote build did not report a remote hit:" + Environment.NewLine + warm.Output);
        Assert.DoesNotContain("warning DSG08", warm.Output, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(Path.Combine(main.BinDir, OutputName)), File.ReadAllBytes(Path.Combine(pullRequest.BinDir, OutputName)));
        Assert.StartsWith("Trouser ", _log.Succeeds(pullRequest.Run(), "app").Output, StringComparison.Ordinal);
    }

    [Fact]
    public void RealToolRejectsABatchNormFoldedModelWithItsCodeOnTheModelFile()
    {
        // A missing precondition (tool not built, no quantize verb) fails the test: it never passes without checking.
        string? tool = BuiltDsgTool.FindWithQuantize(out string reason);
        Assert.True(tool is not null, "Precondition missing: " + reason);

        var app = SampleAppCopy.Create(_feed, "real-folded", tool);
        string folded = Path.Combine(app.Folder, "models", "resnet_fmnist_folded.onnx");
        Assert.True(File.Exists(RepoPaths.Model("resnet_fmnist_folded.onnx")), "Precondition missing: testassets/models/resnet_fmnist_folded.onnx");
        File.Copy(RepoPaths.Model("resnet_fmnist_folded.onnx"), folded);
        app.EditProject("../models/resnet_fmnist.onnx", "../models/resnet_fmnist_folded.onnx");

        CliResult build = _log.Fails(app.Build(), "build of a BN-folded model");

        Assert.Contains($"{folded} : error DSG0201:", build.Output, StringComparison.Ordinal);
    }
}
