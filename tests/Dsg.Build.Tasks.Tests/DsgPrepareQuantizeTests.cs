using Dsg.Build.Tasks.Tests.Fakes;
using Dsg.Build.Tasks.Tests.Integration;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Dsg.Build.Tasks.Tests;

public sealed class DsgPrepareQuantizeTests : IDisposable
{
    private readonly TempDirectory _project = new("dsg-prepare-");
    private readonly RecordingBuildEngine _engine = new();

    public void Dispose() => _project.Dispose();

    private DsgPrepareQuantize Task(params ITaskItem[] models) => new()
    {
        BuildEngine = _engine,
        Models = models,
        ProjectDirectory = _project.Path,
        ProjectFile = _project.Combine("app.csproj"),
        IntermediateDirectory = "obj/Debug/net10.0/dsg/",
    };

    private string Model(string relative)
    {
        string path = _project.Combine(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [1, 2, 3]);
        return relative;
    }

    [Fact]
    public void ComputesOutputsUnderTheIntermediateFolderMirroringTheModelFolder()
    {
        var item = new TaskItem(Model("Models/net.onnx"));
        item.SetMetadata("Samples", "32");
        var task = Task(item);

        Assert.True(task.Execute());
        var result = Assert.Single(task.QuantizedModels);
        string output = _project.Combine("obj", "Debug", "net10.0", "dsg", "Models", "net.int8.onnx");
        Assert.Equal(_project.Combine("Models", "net.onnx"), result.ItemSpec);
        Assert.Equal(output, result.GetMetadata("OutputPath"));
        Assert.Equal(output + ".options", result.GetMetadata("OptionsFile"));
        Assert.Equal("", result.GetMetadata("NormalizedOptions")); // a design-time build: the tool is not asked
        Assert.Equal(System.IO.Path.Combine("Models", "net.int8.onnx"), result.GetMetadata("Link"));
        Assert.Equal("32", result.GetMetadata("Samples"));
        Assert.Empty(_engine.Errors);
    }

    [Fact]
    public void TheToolsWarningAboutAMisspelledMetadataIsABuildWarningNamingTheItem()
    {
        var tool = FakeDsgTool.Create(_project.Combine("tool"));
        var item = new TaskItem(Model("net.onnx"));
        item.SetMetadata("Precison", "W4A4");
        var task = Task(item);
        task.ResolveWithTool = true;
        task.ToolPath = tool.Path;

        Assert.True(task.Execute());
        var warning = Assert.Single(_engine.Warnings);
        Assert.Equal(DsgErrorCodes.UnknownMetadata, warning.Code);
        Assert.Equal(_project.Combine("app.csproj"), warning.File);
        Assert.StartsWith("<DsgQuantize Include=\"net.onnx\">: ", warning.Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'Precision'?", warning.Message, StringComparison.Ordinal);
        Assert.Empty(_engine.Errors);
    }

    [Fact]
    public void TheToolSuggestsTheTasksOwnMetadataTooSoItsListMatchesTheTasks()
    {
        // The tool cannot reference the task; it repeats the names of the task's own metadata users set.
        string tool = File.ReadAllText(System.IO.Path.Combine(Dsg.Tests.Shared.RepoPaths.Root, "src", "Dsg.Tool", "Configuration", "MsBuildMetadataNames.cs"));
        var listed = System.Text.RegularExpressions.Regex.Match(tool, @"TaskMetadata = \[(?<names>[^\]]*)\]").Groups["names"].Value
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(n => n.Trim('"')).ToList();

        Assert.Equal(["ConfigFile", "OutputName", "Embed", "LogicalName"], listed);
        Assert.All(listed, name => Assert.Contains(name, QuantizeSettings.TaskMetadata));
        // What the task reads from an item (the rest of TaskMetadata it sets on its results).
        foreach (string name in QuantizeSettings.TaskMetadata.Take(4))
        {
            Assert.Contains(name, listed);
        }
    }

    [Fact]
    public void MissingModelIsAnErrorOnTheProjectFileNamingThePath()
    {
        var task = Task(new TaskItem("Models/absent.onnx"));

        Assert.False(task.Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal(DsgErrorCodes.ModelFileMissing, error.Code);
        Assert.Equal(_project.Combine("app.csproj"), error.File);
        Assert.Contains(_project.Combine("Models", "absent.onnx"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheToolsResolvedPrecisionNamesTheOutputAndItsBuildInputsBecomeTheOptions()
    {
        var tool = FakeDsgTool.Create(_project.Combine("tool"));
        var item = new TaskItem(Model("net.onnx"));
        item.SetMetadata("Precision", "W4A4");
        item.SetMetadata("Samples", "32");
        item.SetMetadata("Embed", "false");
        var task = Task(item);
        task.ResolveWithTool = true;
        task.ToolPath = tool.Path;

        Assert.True(task.Execute());
        var result = Assert.Single(task.QuantizedModels);
        Assert.Equal("net.w4a4.onnx", result.GetMetadata("OutputName"));
        Assert.Equal("W4A4", result.GetMetadata("ResolvedPrecision"));
        Assert.Equal("precision=W4A4;Precision=W4A4;Samples=32", result.GetMetadata("NormalizedOptions"));
        Assert.Equal("config W4A4,\"Precision=W4A4\",\"Samples=32\"", Assert.Single(tool.ConfigCalls));
        Assert.Empty(_engine.Errors);

        // A build that does not ask the tool (design time, publish --no-build) names the output as the last real build did.
        item.SetMetadata("Precision", "");
        var designTime = Task(item);
        Assert.True(designTime.Execute());
        Assert.Equal("net.w4a4.onnx", Assert.Single(designTime.QuantizedModels).GetMetadata("OutputName"));
        Assert.Single(tool.ConfigCalls);
    }

    [Fact]
    public void TheToolsErrorsAboutMetadataFailTheBuildOnTheProjectWithTheirCode()
    {
        var tool = FakeDsgTool.Create(_project.Combine("tool"));
        var item = new TaskItem(Model("net.onnx"));
        item.SetMetadata("Precision", "W3A3");
        var task = Task(item);
        task.ResolveWithTool = true;
        task.ToolPath = tool.Path;

        Assert.False(task.Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal(DsgErrorCodes.InvalidMetadata, error.Code);
        Assert.Equal(_project.Combine("app.csproj"), error.File);
        Assert.Equal("<DsgQuantize Include=\"net.onnx\">: Invalid value 'W3A3' for MSBuild metadata Precision: expected W8A8, W6A6, W4A8, W4A4. Fix Precision on the <DsgQuantize> item.", error.Message);
        Assert.Empty(task.QuantizedModels);
    }

    [Fact]
    public void WithTheRealToolADsgJsonOrMetadataDecidesThePrecisionAndEditingTheJsonChangesTheOptions()
    {
        string? toolPath = BuiltDsgTool.FindWithQuantize(out string reason);
        Assert.True(toolPath != null, reason);
        var item = new TaskItem(Model("Models/net.onnx"));
        File.WriteAllText(_project.Combine("dsg.json"), """{ "precision": "W4A8", "samples": 64 }""");

        ITaskItem Resolve()
        {
            var task = Task(item);
            task.ResolveWithTool = true;
            task.ToolPath = toolPath;
            Assert.True(task.Execute(), string.Join(Environment.NewLine, _engine.Errors.Select(e => e.Message)));
            return Assert.Single(task.QuantizedModels);
        }

        var fromJson = Resolve();
        Assert.Equal("net.w4a8.onnx", fromJson.GetMetadata("OutputName"));
        Assert.Contains("precision=W4A8", fromJson.GetMetadata("NormalizedOptions").Split(';'));
        Assert.Contains("samples=64", fromJson.GetMetadata("NormalizedOptions").Split(';'));

        File.WriteAllText(_project.Combine("dsg.json"), """{ "precision": "W4A8", "samples": 128 }""");
        Assert.Contains("samples=128", Resolve().GetMetadata("NormalizedOptions").Split(';'));

        item.SetMetadata("Precision", "w6a6");
        Assert.Equal("net.w6a6.onnx", Resolve().GetMetadata("OutputName"));

        item.SetMetadata("Samples", "0");
        var bad = Task(item);
        bad.ResolveWithTool = true;
        bad.ToolPath = toolPath;
        Assert.False(bad.Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal(DsgErrorCodes.InvalidMetadata, error.Code);
        Assert.Contains("Invalid value '0' for MSBuild metadata Samples: expected an integer from 1 to 1000000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoItemsWritingTheSameFileAreRejected()
    {
        var first = new TaskItem(Model("a/net.onnx"));
        first.SetMetadata("OutputName", "q.onnx");
        var second = new TaskItem(Model("a/other.onnx"));
        second.SetMetadata("OutputName", "q.onnx");

        Assert.False(Task(first, second).Execute());
        Assert.Equal(DsgErrorCodes.DuplicateOutput, Assert.Single(_engine.Errors).Code);
    }
}
