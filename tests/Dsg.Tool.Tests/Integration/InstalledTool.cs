using System.IO.Compression;
using Dsg.Tests.Shared;

namespace Dsg.Tool.Tests.Integration;

/// <summary>
/// Packs Dsg.Tool from this build (no rebuild) with a unique prerelease version, and installs it with
/// <c>dotnet tool install --tool-path</c> from that folder only. Shared by the tests of one class.
/// </summary>
public sealed class InstalledTool : IAsyncLifetime
{
    private readonly TempFolder _folder = new();

    /// <summary>The packed .nupkg.</summary>
    public string Package { get; private set; } = "";

    /// <summary>The installed <c>dotnet-dsg</c> command.</summary>
    public string Command { get; private set; } = "";

    /// <summary>The tool-path folder.</summary>
    public string ToolPath => _folder.Combine("tools");

    public async Task InitializeAsync()
    {
        var configuration = ProcessTool.BuildConfiguration;
        var version = $"0.0.1-test.{DateTime.UtcNow:yyyyMMddHHmmss}";
        var packages = _folder.Combine("packages");
        await Run("dotnet", "pack", Path.Combine(RepoPaths.Root, "src", "Dsg.Tool", "Dsg.Tool.csproj"), "--no-build", "-c", configuration,
            "-o", packages, $"-p:PackageVersion={version}");
        Package = Path.Combine(packages, $"Dsg.Tool.{version}.nupkg");
        File.WriteAllText(_folder.Combine("nuget.config"),
            $"""<?xml version="1.0" encoding="utf-8"?><configuration><packageSources><clear /><add key="local" value="{packages}" /></packageSources></configuration>""");
        await Run("dotnet", "tool", "install", "Dsg.Tool", "--tool-path", ToolPath, "--version", version, "--configfile", _folder.Combine("nuget.config"));
        Command = Path.Combine(ToolPath, "dotnet-dsg");
    }

    public Task DisposeAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>The entries of the packed .nupkg.</summary>
    public IReadOnlyList<string> PackageEntries()
    {
        using var zip = ZipFile.OpenRead(Package);
        return zip.Entries.Select(e => e.FullName).ToList();
    }

    private static async Task Run(string file, params string[] args)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}):\n{await output}\n{await error}");
        }
    }
}
