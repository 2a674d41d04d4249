namespace Dsg.Tool.Tests;

public sealed class AllocatorRelaunchTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void UnderTheDotnetHostTheChildRunsTheSameAssemblyWithTheSameArguments()
    {
        var dll = _folder.Write("tool/dotnet-dsg.dll", "not a real assembly");
        var start = AllocatorRelaunch.StartInfo("/usr/share/dotnet/dotnet", [dll, "quantize", "m.onnx"], ["quantize", "m onnx", "--json"]);
        Assert.NotNull(start);
        Assert.Equal("/usr/share/dotnet/dotnet", start.FileName);
        Assert.Equal([dll, "quantize", "m onnx", "--json"], start.ArgumentList);
        Assert.False(start.UseShellExecute);
    }

    [Fact]
    public void UnderItsOwnLauncherTheChildIsTheLauncherWithTheArguments()
    {
        var start = AllocatorRelaunch.StartInfo("/home/u/.dotnet/tools/dotnet-dsg", ["/home/u/.dotnet/tools/.store/dotnet-dsg.dll"], ["--version"]);
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
        Assert.Null(AllocatorRelaunch.StartInfo(processPath, [first], ["--version"]));
    }

    [Theory]
    [InlineData(null, "glibc.malloc.hugetlb=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184")]
    [InlineData("", "glibc.malloc.hugetlb=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184")]
    [InlineData("glibc.rtld.nns=2", "glibc.rtld.nns=2:glibc.malloc.hugetlb=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184")]
    public void TheChildKeepsTheUsersTunablesAndAddsTheMallocOnes(string? parent, string child)
    {
        Assert.Equal(child, AllocatorRelaunch.ChildTunables(parent));
    }
}
