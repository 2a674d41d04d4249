using Dsg.Tests.Shared;

namespace Dsg.Build.Tasks.Tests.Integration;

/// <summary>
/// Packs Dsg.Build from this repository once per test run into a local feed, under a version unique to the run, and
/// writes a nuget.config that restores into a private packages folder (with the user's folder as a read-only
/// fallback for ONNX Runtime), so nothing the tests pack ever reaches the user's package cache.
/// </summary>
public sealed class PackedFeedFixture : IDisposable
{
    public PackedFeedFixture()
    {
        Root = Directory.CreateTempSubdirectory("dsg-build-it-").FullName;
        Version = $"0.1.0-it.{DateTime.UtcNow:yyyyMMddHHmmss}";
        Feed = Path.Combine(Root, "feed");
        // A configuration of its own keeps this pack's outputs (stamped with the run's version) apart from the
        // solution's Debug/Release builds; the solution build has already restored the project.
        CliResult pack = DotnetCli.Run(RepoPaths.Root,
            "pack", Path.Combine(RepoPaths.Root, "src", "Dsg.Build.Tasks", "Dsg.Build.Tasks.csproj"),
            "-c", "IntegrationTest", "--no-restore", "-o", Feed, "-nr:false", "-tl:off", "-p:Version=" + Version);
        if (pack.ExitCode != 0 || !File.Exists(Path.Combine(Feed, $"Dsg.Build.{Version}.nupkg")))
        {
            Dispose(); // xunit does not dispose a fixture whose constructor throws
            throw new InvalidOperationException("Packing Dsg.Build failed:" + Environment.NewLine + pack.Output);
        }

        File.WriteAllText(Path.Combine(Root, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{Path.Combine(Root, "packages")}" />
              </config>
              <fallbackPackageFolders>
                <add key="user" value="{DotnetCli.UserPackagesFolder}" />
              </fallbackPackageFolders>
            </configuration>
            """);
    }

    /// <summary>Everything the tests write lives under this folder.</summary>
    public string Root { get; }

    /// <summary>The local feed holding the packed Dsg.Build.</summary>
    public string Feed { get; }

    /// <summary>The version the package was packed with.</summary>
    public string Version { get; }

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("DSG_KEEP_TEST_DIRS") == "1")
        {
            return;
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
