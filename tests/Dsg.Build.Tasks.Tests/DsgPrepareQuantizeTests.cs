using Dsg.Build.Tasks.Tests.Fakes;
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
        Assert.Equal("precision=W8A8;samples=32", result.GetMetadata("NormalizedOptions"));
        Assert.Equal(System.IO.Path.Combine("Models", "net.int8.onnx"), result.GetMetadata("Link"));
        Assert.Equal("32", result.GetMetadata("Samples"));
        Assert.Empty(_engine.Errors);
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
    public void EveryBadMetadataValueIsReportedBeforeAnythingRuns()
    {
        var item = new TaskItem(Model("net.onnx"));
        item.SetMetadata("Precision", "W3A3");
        item.SetMetadata("Samples", "lots");
        var task = Task(item);

        Assert.False(task.Execute());
        Assert.Equal(2, _engine.Errors.Count);
        Assert.All(_engine.Errors, e => Assert.Equal(DsgErrorCodes.InvalidMetadata, e.Code));
        Assert.Contains("W8A8, W6A6, W4A8, W4A4", _engine.Errors[0].Message, StringComparison.Ordinal);
        Assert.Contains("<DsgQuantize Include=\"net.onnx\">", _engine.Errors[1].Message, StringComparison.Ordinal);
        Assert.Empty(task.QuantizedModels);
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
