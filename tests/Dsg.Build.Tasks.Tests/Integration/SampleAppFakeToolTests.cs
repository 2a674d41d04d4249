using Dsg.Build.Tasks.Tests.Fakes;
using Xunit.Abstractions;

namespace Dsg.Build.Tasks.Tests.Integration;

/// <summary>
/// Real `dotnet build`/`publish`/`clean` runs of the sample app with the packed Dsg.Build and a fake tool that
/// copies the model: they pin the targets (incrementality, outputs, clean, embedding) and the error reporting
/// without paying for generation.
/// </summary>
[Collection(SampleAppCollection.Name)]
[Trait("Category", "Slow")]
public sealed class SampleAppFakeToolTests
{
    private const string OutputName = "resnet_fmnist.int8.onnx";
    private const string SkipMessage = "Skipping target \"_DsgQuantizeModels\" because all output files are up-to-date with respect to the input files.";
    private readonly PackedFeedFixture _feed;
    private readonly ITestOutputHelper _log;

    public SampleAppFakeToolTests(PackedFeedFixture feed, ITestOutputHelper log)
    {
        _feed = feed;
        _log = log;
    }

    [Fact]
    public void SecondBuildSkipsTheTargetAndOnlyAChangedModelOrChangedMetadataRerunsIt()
    {
        var tool = FakeDsgTool.Create(Path.Combine(_feed.Root, "incremental-tool"));
        var app = SampleAppCopy.Create(_feed, "incremental", tool.Path);

        CliResult first = _log.Succeeds(app.Build(), "first build");
        Assert.Contains($"Dsg: ../models/resnet_fmnist.onnx -> {OutputName} (generated in 0.1 s)", first.Output, StringComparison.Ordinal);
        Assert.Single(tool.Invocations);

        string log = Path.Combine(app.Folder, "second.log");
        CliResult second = _log.Succeeds(app.Build("-flp:v=detailed;logfile=" + log), "no-op build");
        Assert.Single(tool.Invocations);
        Assert.Contains(SkipMessage, File.ReadAllText(log), StringComparison.Ordinal);
        Assert.DoesNotContain("Dsg: ../models", second.Output, StringComparison.Ordinal);
        _log.WriteLine($"first build {first.Elapsed.TotalSeconds:0.0} s, no-op build {second.Elapsed.TotalSeconds:0.0} s (fake tool)");

        File.SetLastWriteTimeUtc(app.ModelPath, DateTime.UtcNow);
        CliResult touched = _log.Succeeds(app.Build(), "build after touching the model");
        Assert.Equal(2, tool.Invocations.Count);
        Assert.Contains($"-> {OutputName} (cache hit)", touched.Output, StringComparison.Ordinal);

        app.EditProject("Samples=\"32\"", "Samples=\"16\"");
        CliResult edited = _log.Succeeds(app.Build(), "build after changing Samples");
        Assert.Equal(3, tool.Invocations.Count);
        Assert.Contains("--msbuild-metadata Samples=16", tool.Invocations[2], StringComparison.Ordinal);
        Assert.Contains($"-> {OutputName} (generated in", edited.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutPrecisionMetadataADsgVariableNamesTheOutputAndChangingItRebuilds()
    {
        var tool = FakeDsgTool.Create(Path.Combine(_feed.Root, "environment-tool"));
        var app = SampleAppCopy.Create(_feed, "environment", tool.Path);
        app.EditProject("Precision=\"W8A8\"", "");

        CliResult w4a8 = _log.Succeeds(app.BuildWith(new Dictionary<string, string> { ["DSG_PRECISION"] = "W4A8" }), "build with DSG_PRECISION=W4A8");
        Assert.Contains("Dsg: ../models/resnet_fmnist.onnx -> resnet_fmnist.w4a8.onnx", w4a8.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(app.BinDir, "resnet_fmnist.w4a8.onnx")));
        Assert.Single(tool.Invocations);

        _log.Succeeds(app.BuildWith(new Dictionary<string, string> { ["DSG_PRECISION"] = "W4A8" }), "same variable again");
        Assert.Single(tool.Invocations);

        CliResult w4a4 = _log.Succeeds(app.BuildWith(new Dictionary<string, string> { ["DSG_PRECISION"] = "W4A4" }), "build with DSG_PRECISION=W4A4");
        Assert.Contains("-> resnet_fmnist.w4a4.onnx", w4a4.Output, StringComparison.Ordinal);
        Assert.Equal(2, tool.Invocations.Count);

        // Dsg.Build.props no longer forces W8A8: without any source the tool's default names the output.
        CliResult unset = _log.Succeeds(app.Build(), "build without the variable");
        Assert.Contains("-> resnet_fmnist.int8.onnx", unset.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Precision=", tool.Invocations[2], StringComparison.Ordinal);
    }

    [Fact]
    public void OutputReachesBinPublishAndAnEmbeddedResourceAndCleanKeepsTheCache()
    {
        var tool = FakeDsgTool.Create(Path.Combine(_feed.Root, "outputs-tool"));
        var app = SampleAppCopy.Create(_feed, "outputs", tool.Path);
        byte[] model = File.ReadAllBytes(app.ModelPath);

        _log.Succeeds(app.Build(), "build");
        Assert.Equal(model, File.ReadAllBytes(Path.Combine(app.BinDir, OutputName)));
        Assert.True(File.Exists(Path.Combine(app.ObjDsgDir, OutputName)));
        Assert.StartsWith("Trouser (resnet_fmnist.int8.onnx from the output folder)", _log.Succeeds(app.Run(), "app").Output, StringComparison.Ordinal);

        // Publishing without building proves the outputs become items even when the quantize target does not run.
        _log.Succeeds(app.Publish("-c", "Debug", "--no-build"), "publish");
        Assert.Equal(model, File.ReadAllBytes(Path.Combine(app.PublishDir, OutputName)));
        Assert.Single(tool.Invocations);

        // Embedding is not a quantization option: the tool does not run again, the resource replaces the file.
        _log.Succeeds(app.Build("-p:SampleEmbedModel=true"), "embedded build");
        Assert.Single(tool.Invocations);
        Assert.StartsWith("Trouser (resnet_fmnist.int8.onnx from the embedded resource)", _log.Succeeds(app.Run("--embedded"), "embedded app").Output, StringComparison.Ordinal);

        _log.Succeeds(app.Clean(), "clean");
        Assert.False(File.Exists(Path.Combine(app.BinDir, OutputName)));
        Assert.False(Directory.Exists(app.ObjDsgDir) && Directory.EnumerateFiles(app.ObjDsgDir, "*", SearchOption.AllDirectories).Any(),
            "clean left files under " + app.ObjDsgDir);
        Assert.Single(Directory.GetFiles(app.CacheDir, "*.onnx"));
    }

    [Fact]
    public void MissingModelAndBadMetadataFailTheBuildWithCodesAndTheProjectFile()
    {
        var tool = FakeDsgTool.Create(Path.Combine(_feed.Root, "invalid-tool"));
        var app = SampleAppCopy.Create(_feed, "invalid", tool.Path);
        app.EditProject("Precision=\"W8A8\"", "Precision=\"W3A3\"");
        app.EditProject("<None Include=\"sample.pgm\"", "<DsgQuantize Include=\"Models/absent.onnx\" />\n    <None Include=\"sample.pgm\"");

        CliResult build = _log.Fails(app.Build(), "build with bad items");

        // The tool validates the metadata (config show, before anything is quantized); the task reports its error.
        Assert.Contains($"{app.ProjectFile} : error DSG0902: <DsgQuantize Include=\"../models/resnet_fmnist.onnx\">: Invalid value 'W3A3' for MSBuild metadata Precision: expected W8A8, W6A6, W4A8, W4A4. Fix Precision on the <DsgQuantize> item.", build.Output, StringComparison.Ordinal);
        Assert.Contains($"{app.ProjectFile} : error DSG0901: The model '{Path.Combine(app.ProjectDir, "Models", "absent.onnx")}'", build.Output, StringComparison.Ordinal);
        Assert.Empty(tool.Invocations);
    }

    [Fact]
    public void ToolOutsideTheSupportedRangeFailsTheBuildWithTheInstallCommand()
    {
        var tool = FakeDsgTool.Create(Path.Combine(_feed.Root, "old-tool"), version: "9.9.9");
        var app = SampleAppCopy.Create(_feed, "version", tool.Path);

        CliResult build = _log.Fails(app.Build(), "build with tool 9.9.9");

        Assert.Contains($"{app.ProjectFile} : error DSG0904: The Dsg tool (DsgToolPath '{tool.Path}') is version 9.9.9, but Dsg.Build {_feed.Version} needs a version in [0.1.0, 0.2.0).", build.Output, StringComparison.Ordinal);
        Assert.Contains("dotnet tool update --global Dsg.Tool --version 0.1.0", build.Output, StringComparison.Ordinal);
        Assert.Empty(tool.Invocations);
    }

    [Fact]
    public void ToolErrorFailsTheBuildWithTheToolsCodeOnTheModelFile()
    {
        var tool = FakeDsgTool.Create(Path.Combine(_feed.Root, "folded-tool"));
        var app = SampleAppCopy.Create(_feed, "folded", tool.Path);
        string folded = Path.Combine(app.Folder, "models", "resnet_fmnist_folded.onnx");
        File.Copy(app.ModelPath, folded);
        app.EditProject("../models/resnet_fmnist.onnx", "../models/resnet_fmnist_folded.onnx");

        CliResult build = _log.Fails(app.Build(), "build of a BN-folded model");

        Assert.Contains($"{folded} : error DSG0201: The model has no BatchNormalization nodes (folded at export?). Export with torch.onnx.export(..., training=torch.onnx.TrainingMode.PRESERVE).", build.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(app.ObjDsgDir, "resnet_fmnist_folded.int8.onnx")));
    }
}
