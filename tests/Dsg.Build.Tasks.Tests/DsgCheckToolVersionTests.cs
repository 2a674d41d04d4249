using Dsg.Build.Tasks.Tests.Fakes;

namespace Dsg.Build.Tasks.Tests;

public sealed class DsgCheckToolVersionTests : IDisposable
{
    private readonly TempDirectory _dir = new("dsg-version-");
    private readonly RecordingBuildEngine _engine = new();

    public void Dispose() => _dir.Dispose();

    private DsgCheckToolVersion Task(string? toolPath, string? toolCommand = null) => new()
    {
        BuildEngine = _engine,
        ToolPath = toolPath,
        ToolCommand = toolCommand,
        ProjectDirectory = _dir.Path,
        ProjectFile = _dir.Combine("app.csproj"),
    };

    [Theory]
    [InlineData("0.1.0", "0.1.0")]
    [InlineData("0.1.7+3f2a1b", "0.1.7")]
    public void AcceptsAToolInTheSupportedRange(string reported, string expected)
    {
        var tool = FakeDsgTool.Create(_dir.Combine("tool"), reported);
        var task = Task(tool.Path);

        Assert.True(task.Execute());
        Assert.Equal(expected, task.ToolVersion);
        Assert.Empty(_engine.Errors);
    }

    [Theory]
    [InlineData("9.9.9")]
    [InlineData("0.0.9")]
    [InlineData("0.2.0")]
    public void RejectsAToolOutsideTheRangeAndSaysHowToInstallTheRightOne(string reported)
    {
        var tool = FakeDsgTool.Create(_dir.Combine("tool"), reported);

        Assert.False(Task(tool.Path).Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal(DsgErrorCodes.ToolVersionOutOfRange, error.Code);
        Assert.Equal(_dir.Combine("app.csproj"), error.File);
        Assert.Contains($"is version {reported}", error.Message, StringComparison.Ordinal);
        Assert.Contains("[0.1.0, 0.2.0)", error.Message, StringComparison.Ordinal);
        Assert.Contains("dotnet tool update --global Dsg.Tool --version 0.1.0", error.Message, StringComparison.Ordinal);
        Assert.Contains("dotnet tool install Dsg.Tool --version 0.1.0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingToolPathIsToolNotFound()
    {
        Assert.False(Task(_dir.Combine("nowhere", "dotnet-dsg")).Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal(DsgErrorCodes.ToolNotFound, error.Code);
        Assert.Contains(_dir.Combine("nowhere", "dotnet-dsg"), error.Message, StringComparison.Ordinal);
        Assert.Contains("dotnet tool update --global Dsg.Tool", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UninstalledDotnetToolIsToolNotFound()
    {
        // The default command shape, `dotnet <tool>`, with a tool name nobody installs: dotnet itself reports it missing.
        Assert.False(Task(null, "dotnet dsg-not-installed-5b1e").Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal(DsgErrorCodes.ToolNotFound, error.Code);
        Assert.Contains("DsgToolCommand 'dotnet dsg-not-installed-5b1e'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Is Dsg.Tool installed?", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CommandThatCannotStartIsToolNotFound()
    {
        Assert.False(Task(null, "no-such-program-5b1e dsg").Execute());
        Assert.Equal(DsgErrorCodes.ToolNotFound, Assert.Single(_engine.Errors).Code);
    }
}
