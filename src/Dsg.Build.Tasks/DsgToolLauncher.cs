using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace Dsg.Build.Tasks;

/// <summary>
/// How to start the Dsg tool: <c>DsgToolPath</c> (an executable, or a <c>dotnet-dsg.dll</c> run by the dotnet host)
/// wins over <c>DsgToolCommand</c> (default <c>dotnet dsg</c>, which finds a local tool manifest or a global install).
/// </summary>
internal sealed class DsgToolLauncher
{
    private DsgToolLauncher(string fileName, IReadOnlyList<string> leadingArguments, string description)
    {
        FileName = fileName;
        LeadingArguments = leadingArguments;
        Description = description;
    }

    /// <summary>The executable to start.</summary>
    public string FileName { get; }

    /// <summary>Arguments that come before the verb (e.g. <c>dsg</c> for <c>dotnet dsg</c>).</summary>
    public IReadOnlyList<string> LeadingArguments { get; }

    /// <summary>How the user configured it, for messages (e.g. <c>DsgToolCommand 'dotnet dsg'</c>).</summary>
    public string Description { get; }

    /// <summary>
    /// Resolves the launcher, or returns null with <paramref name="problem"/> set when the configured path does not exist.
    /// </summary>
    public static DsgToolLauncher? Resolve(string? toolPath, string? toolCommand, string projectDirectory, out string? problem)
    {
        problem = null;
        if (!string.IsNullOrWhiteSpace(toolPath))
        {
            string full = Path.GetFullPath(Path.Combine(projectDirectory, toolPath!.Trim()));
            if (!File.Exists(full))
            {
                problem = $"DsgToolPath '{toolPath}' does not exist (resolved to '{full}').";
                return null;
            }

            string description = $"DsgToolPath '{full}'";
            return string.Equals(Path.GetExtension(full), ".dll", StringComparison.OrdinalIgnoreCase)
                ? new DsgToolLauncher(DotnetHost(), new[] { full }, description)
                : new DsgToolLauncher(full, Array.Empty<string>(), description);
        }

        string command = string.IsNullOrWhiteSpace(toolCommand) ? "dotnet dsg" : toolCommand!.Trim();
        string[] parts = command.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
        string fileName = string.Equals(parts[0], "dotnet", StringComparison.OrdinalIgnoreCase) ? DotnetHost() : FindOnPath(parts[0]);
        var leading = new string[parts.Length - 1];
        Array.Copy(parts, 1, leading, 0, leading.Length);
        return new DsgToolLauncher(fileName, leading, $"DsgToolCommand '{command}'");
    }

    /// <summary>
    /// The dotnet host running this build (the SDK sets DOTNET_HOST_PATH for tasks), else <c>dotnet</c> from PATH.
    /// </summary>
    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(host) && File.Exists(host) ? host! : FindOnPath("dotnet");
    }

    /// <summary>
    /// The full path of a bare program name found on PATH (ToolTask needs a path), else the name unchanged, which
    /// then fails to start with a message naming it.
    /// </summary>
    private static string FindOnPath(string name)
    {
        if (name.IndexOfAny(new[] { '/', '\\' }) >= 0)
        {
            return name;
        }

        bool windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
        string[] candidates = windows && !name.EndsWith(".exe", StringComparison.OrdinalIgnoreCase) ? new[] { name + ".exe", name } : new[] { name };
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            foreach (string candidate in candidates)
            {
                if (dir.Length > 0 && File.Exists(Path.Combine(dir, candidate)))
                {
                    return Path.Combine(dir, candidate);
                }
            }
        }

        return name;
    }
}
