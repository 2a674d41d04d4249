using System;
using System.ComponentModel;
using System.IO;
using System.Linq;
using Microsoft.Build.Framework;
using NuGet.Versioning;
using Task = Microsoft.Build.Utilities.Task;

namespace Dsg.Build.Tasks;

/// <summary>
/// Runs <c>TOOL --version</c> and checks the version against the range this package supports. Its output feeds a
/// version stamp file that is an input of the quantize target, so a tool update reruns quantization.
/// </summary>
public sealed class DsgCheckToolVersion : Task, ICancelableTask
{
    private readonly ToolProcess _process = new();

    /// <summary><c>$(DsgToolPath)</c>: an executable (or dotnet-dsg.dll); wins over <see cref="ToolCommand"/>.</summary>
    public string? ToolPath { get; set; }

    /// <summary><c>$(DsgToolCommand)</c>: a command line prefix, default <c>dotnet dsg</c>.</summary>
    public string? ToolCommand { get; set; }

    /// <summary>The project's folder; a relative <see cref="ToolPath"/> resolves against it.</summary>
    [Required]
    public string ProjectDirectory { get; set; } = string.Empty;

    /// <summary>The project file, named as the location of errors.</summary>
    [Required]
    public string ProjectFile { get; set; } = string.Empty;

    /// <summary>The tool's normalised version, e.g. <c>0.1.0</c>.</summary>
    [Output]
    public string ToolVersion { get; private set; } = string.Empty;

    /// <inheritdoc />
    public void Cancel() => _process.Cancel();

    /// <inheritdoc />
    public override bool Execute()
    {
        DsgToolLauncher? launcher = DsgToolLauncher.Resolve(ToolPath, ToolCommand, ProjectDirectory, out string? problem);
        if (launcher == null)
        {
            Error(DsgErrorCodes.ToolNotFound, $"The Dsg tool cannot be found: {problem} {SupportedToolVersions.InstallHint}");
            return false;
        }

        string output;
        int exitCode;
        try
        {
            (exitCode, output) = Run(launcher);
        }
        catch (Win32Exception e)
        {
            Error(DsgErrorCodes.ToolNotFound, $"The Dsg tool ({launcher.Description}) cannot be started: {e.Message}. {SupportedToolVersions.InstallHint}");
            return false;
        }

        string firstLine = output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? string.Empty;
        if (exitCode != 0 || !NuGetVersion.TryParse(firstLine, out NuGetVersion? version))
        {
            string shown = output.Trim().Length > 400 ? output.Trim().Substring(0, 400) + "..." : output.Trim();
            Error(DsgErrorCodes.ToolNotFound,
                $"The Dsg tool ({launcher.Description}) did not report a version ('--version' exited with {exitCode}: {shown}). " +
                $"Is Dsg.Tool installed? {SupportedToolVersions.InstallHint}");
            return false;
        }

        if (!SupportedToolVersions.Range.Satisfies(version))
        {
            Error(DsgErrorCodes.ToolVersionOutOfRange,
                $"The Dsg tool ({launcher.Description}) is version {version.ToNormalizedString()}, but Dsg.Build {SupportedToolVersions.PackageVersion} " +
                $"needs a version in {SupportedToolVersions.Range.ToNormalizedString()}. {SupportedToolVersions.InstallHint}");
            return false;
        }

        ToolVersion = version.ToNormalizedString();
        Log.LogMessage(MessageImportance.Low, $"Dsg: using tool {ToolVersion} ({launcher.Description}).");
        return true;
    }

    private (int ExitCode, string Output) Run(DsgToolLauncher launcher)
    {
        (int exitCode, string stdout, string stderr) = _process.Run(launcher, new[] { "--version" }, ProjectDirectory);
        return (exitCode, stdout.Trim().Length > 0 && exitCode == 0 ? stdout : stdout + stderr);
    }

    private void Error(string code, string message) => Log.LogError(null, code, null, ProjectFile, 0, 0, 0, 0, message);
}
