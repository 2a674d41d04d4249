namespace Dsg.Tool.Tests;

public sealed class SingleArenaRelaunchTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void UnderTheDotnetHostTheChildRunsTheSameAssemblyWithTheSameArguments()
    {
        var dll = _folder.Write("tool/dotnet-dsg.dll", "not a real assembly");
        var start = SingleArenaRelaunch.StartInfo("/usr/share/dotnet/dotnet", [dll, "quantize", "m.onnx"], ["quantize", "m onnx", "--json"]);
        Assert.NotNull(start);
        Assert.Equal("/usr/share/dotnet/dotnet", start.FileName);
        Assert.Equal([dll, "quantize", "m onnx", "--json"], start.ArgumentList);
        Assert.False(start.UseShellExecute);
    }

    [Fact]
    public void UnderItsOwnLauncherTheChildIsTheLauncherWithTheArguments()
    {
        var start = SingleArenaRelaunch.StartInfo("/home/u/.dotnet/tools/dotnet-dsg", ["/home/u/.dotnet/tools/.store/dotnet-dsg.dll"], ["--version"]);
        Assert.NotNull(start);
        Assert.Equal("/home/u/.dotnet/tools/dotnet-dsg", start.FileName);
        Assert.Equal(["--version"], start.ArgumentList);
    }

    [Theory]
    [InlineData(null, "/x/dotnet-dsg.dll")]
    [InlineData("/usr/bin/dotnet", "/nowhere/dotnet-dsg.dll")]
    [InlineData("/usr/bin/dotnet", "/usr/bin/something-else")]
    public void WhatCannotBeStartedAgainRunsInThisProcess(string? processPath, string first)
    {
        Assert.Null(SingleArenaRelaunch.StartInfo(processPath, [first], ["--version"]));
    }
}
