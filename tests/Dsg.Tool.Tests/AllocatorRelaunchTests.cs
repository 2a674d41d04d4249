using System.Diagnostics;
using Dsg.Tests.Shared;

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

    // eng/native-allocator.sh gives the test, benchmark and results processes the tool's settings, read from the one
    // constant (AllocatorRelaunch.MallocTunables); like the tool, it keeps a user's own malloc settings.
    [Theory]
    [InlineData(null, null, "1", null)]
    [InlineData("glibc.rtld.nns=2", null, "1", "glibc.rtld.nns=2:")]
    [InlineData(null, "4", "4", "")]
    [InlineData("glibc.malloc.arena_max=2", null, "", "glibc.malloc.arena_max=2")]
    public void TheScriptsAllocatorSettingsAreTheTools(string? tunables, string? arenaMax, string expectedArena, string? expectedTunables)
    {
        var start = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("set -euo pipefail; source eng/native-allocator.sh; printf '%s\\n%s\\n' \"${MALLOC_ARENA_MAX:-}\" \"${GLIBC_TUNABLES:-}\"");
        start.WorkingDirectory = RepoPaths.Root;
        start.Environment.Remove(AllocatorRelaunch.ArenaVariable);
        start.Environment.Remove(AllocatorRelaunch.TunablesVariable);
        if (tunables is not null)
        {
            start.Environment[AllocatorRelaunch.TunablesVariable] = tunables;
        }

        if (arenaMax is not null)
        {
            start.Environment[AllocatorRelaunch.ArenaVariable] = arenaMax;
        }

        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, error);
        var lines = output.Split('\n');
        Assert.Equal(expectedArena, lines[0]);
        // null: the tool's own tunables alone; ending in ':': the user's, then the tool's; otherwise exactly as given.
        string expected = expectedTunables switch
        {
            null => AllocatorRelaunch.MallocTunables,
            [.., ':'] => expectedTunables + AllocatorRelaunch.MallocTunables,
            _ => expectedTunables,
        };
        Assert.Equal(expected, lines[1]);
    }
}
