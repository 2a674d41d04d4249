using Dsg.Build.Tasks.Tests.Fakes;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Dsg.Build.Tasks.Tests;

public sealed class DsgQuantizeModelTests : IDisposable
{
    private readonly TempDirectory _dir = new("dsg-quantize-");
    private readonly RecordingBuildEngine _engine = new();
    private readonly FakeDsgTool _tool;

    public DsgQuantizeModelTests()
    {
        _tool = FakeDsgTool.Create(_dir.Combine("tool"));
    }

    public void Dispose() => _dir.Dispose();

    private DsgQuantizeModel Task(string modelName, params (string Name, string Value)[] metadata)
    {
        string model = _dir.Combine(modelName);
        File.WriteAllBytes(model, [8, 6, 7, 5, 3, 0, 9]);
        var item = new TaskItem(model);
        foreach (var (name, value) in metadata)
        {
            item.SetMetadata(name, value);
        }

        item.SetMetadata("OutputPath", _dir.Combine("obj", "dsg", Path.GetFileNameWithoutExtension(modelName) + ".int8.onnx"));
        item.SetMetadata("OutputName", Path.GetFileNameWithoutExtension(modelName) + ".int8.onnx");
        item.SetMetadata("ModelDisplayName", modelName);
        return new DsgQuantizeModel
        {
            BuildEngine = _engine,
            Model = item,
            DsgToolPath = _tool.Path,
            ProjectDirectory = _dir.Path,
            CacheDir = "cache",
        };
    }

    private IEnumerable<string> HighMessages =>
        _engine.Messages.Where(m => m.Importance == MessageImportance.High).Select(m => m.Message!);

    [Fact]
    public void WritesTheOutputAndReportsOneLinePerModel()
    {
        var task = Task("net.onnx", ("Precision", "W4A4"), ("Samples", "8"), ("Threads", "2"));

        Assert.True(task.Execute());
        string output = _dir.Combine("obj", "dsg", "net.int8.onnx");
        Assert.Equal(File.ReadAllBytes(_dir.Combine("net.onnx")), File.ReadAllBytes(output));
        Assert.Equal(output, task.FilesWritten.Single().ItemSpec);
        Assert.Equal("Dsg: net.onnx -> net.int8.onnx (generated in 0.1 s)", Assert.Single(HighMessages));
        Assert.Equal($"quantize {_dir.Combine("net.onnx")} --msbuild-metadata Precision=W4A4 --msbuild-metadata Samples=8 --msbuild-metadata Threads=2", Assert.Single(_tool.Invocations));
        Assert.Equal(_dir.Path, _tool.LastWorkingDirectory); // where `dotnet dsg` looks for the local tool manifest
        Assert.Empty(_engine.Errors);
        var low = _engine.Messages.Where(m => m.Importance == MessageImportance.Low).Select(m => m.Message!).ToList();
        Assert.Contains("Dsg: net.onnx: generate 1/2 (elapsed 1m 02s, about 3m 10s left) reading", low);
        Assert.Contains("Dsg: net.onnx: generate 2/2 copying", low);
    }

    [Fact]
    public void AblationMetadataReachesTheToolsCommandLine()
    {
        var task = Task("net.onnx", ("Without", "sci,class"), ("TermWeights", "bn=2"));

        Assert.True(task.Execute());
        Assert.Equal($"quantize {_dir.Combine("net.onnx")} --msbuild-metadata TermWeights=bn=2 --msbuild-metadata Without=sci,class", Assert.Single(_tool.Invocations));
    }

    [Fact]
    public void RemoteCachePropertiesReachTheToolsCommandLineAndAHitThereSaysRemoteHit()
    {
        DsgQuantizeModel RemoteTask()
        {
            var task = Task("net.onnx");
            task.RemoteCache = " http://127.0.0.1:8080/dsg/ ";
            task.RemoteCacheMode = "read";
            task.RemoteCacheAuthVariable = "CI_CACHE_AUTH";
            task.RemoteCacheTimeout = "";
            task.RemoteCacheRetries = "4";
            return task;
        }

        Assert.True(RemoteTask().Execute());
        Assert.True(RemoteTask().Execute());

        // Empty properties are left to the tool (DSG_* and dsg.json); the variable's name goes, never its value.
        Assert.Equal($"quantize {_dir.Combine("net.onnx")} --remote-cache http://127.0.0.1:8080/dsg/ --remote-cache-mode read --remote-cache-auth-variable CI_CACHE_AUTH --remote-cache-retries 4",
            _tool.Invocations[0]);
        Assert.Equal("Dsg: net.onnx -> net.int8.onnx (remote hit)", HighMessages.Last());
    }

    [Fact]
    public void SecondRunWithTheSameCacheSaysCacheHit()
    {
        Assert.True(Task("net.onnx").Execute());
        Assert.True(Task("net.onnx").Execute());

        Assert.Equal("Dsg: net.onnx -> net.int8.onnx (cache hit)", HighMessages.Last());
        Assert.Single(Directory.GetFiles(_dir.Combine("cache")));
    }

    [Fact]
    public void ToolErrorLineBecomesAnErrorWithItsCodeTheModelFileAndTheHint()
    {
        Assert.False(Task("net_folded.onnx").Execute());

        var error = Assert.Single(_engine.Errors);
        Assert.Equal("DSG0201", error.Code);
        Assert.Equal(_dir.Combine("net_folded.onnx"), error.File);
        Assert.Contains("no BatchNormalization nodes", error.Message, StringComparison.Ordinal);
        Assert.Contains("training=torch.onnx.TrainingMode.PRESERVE", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.Combine("obj", "dsg", "net_folded.int8.onnx")));
    }

    [Fact]
    public void ToolWarningLineBecomesAWarningWithItsCode()
    {
        Assert.True(Task("net_warn.onnx").Execute());

        var warning = Assert.Single(_engine.Warnings);
        Assert.Equal("DSG0601", warning.Code);
        Assert.Equal(_dir.Combine("net_warn.onnx"), warning.File);
        Assert.Empty(_engine.Errors);
    }

    [Fact]
    public void CrashWithoutAnErrorLineIsToolFailedWithTheToolsLastOutput()
    {
        Assert.False(Task("net_crash.onnx").Execute());

        var error = Assert.Single(_engine.Errors);
        Assert.Equal(DsgErrorCodes.ToolFailed, error.Code);
        Assert.Contains("exit code 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("Unhandled exception. System.InvalidOperationException: boom", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheTasksOwnMetadataNeverReachTheTool()
    {
        Assert.True(Task("net.onnx", ("Embed", "false"), ("LogicalName", "x"), ("HeldOutSamples", "24")).Execute());

        Assert.Equal($"quantize {_dir.Combine("net.onnx")} --msbuild-metadata HeldOutSamples=24", Assert.Single(_tool.Invocations));
    }
}
