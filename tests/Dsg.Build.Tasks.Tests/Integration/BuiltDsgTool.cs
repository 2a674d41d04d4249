using Dsg.Tests.Shared;

namespace Dsg.Build.Tasks.Tests.Integration;

/// <summary>The dotnet-dsg apphost that the solution build leaves in src/Dsg.Tool/bin, if it has the quantize verb.</summary>
internal static class BuiltDsgTool
{
    /// <summary>The apphost's path, or null with <paramref name="reason"/> saying why it cannot be used.</summary>
    public static string? FindWithQuantize(out string reason)
    {
        string? path = new[] { "Debug", "Release" }
            .Select(c => Path.Combine(RepoPaths.Root, "src", "Dsg.Tool", "bin", c, "net10.0", OperatingSystem.IsWindows() ? "dotnet-dsg.exe" : "dotnet-dsg"))
            .Where(File.Exists)
            .OrderByDescending(File.GetLastWriteTimeUtc)
            .FirstOrDefault();
        if (path is null)
        {
            reason = "src/Dsg.Tool has not been built (build DsgBuild.sln first).";
            return null;
        }

        CliResult help = DotnetCli.Start(path, RepoPaths.Root, "quantize", "--help");
        if (help.ExitCode != 0)
        {
            reason = $"{path} has no quantize verb yet ('quantize --help' exited with {help.ExitCode}).";
            return null;
        }

        reason = string.Empty;
        return path;
    }
}
