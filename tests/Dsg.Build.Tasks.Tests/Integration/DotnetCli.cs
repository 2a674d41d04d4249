using System.Diagnostics;
using System.Text;

namespace Dsg.Build.Tasks.Tests.Integration;

/// <summary>
/// Runs the dotnet CLI as a user would. The test host runs inside `dotnet test`, whose MSBuild variables would leak
/// into a nested build, so every MSBuild* variable is dropped, and NUGET_PACKAGES is dropped so that the nuget.config
/// the tests write decides where packages go.
/// </summary>
internal static class DotnetCli
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(5);

    /// <summary>The dotnet host running the tests, else <c>dotnet</c> from PATH.</summary>
    public static string Host { get; } =
        Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    /// <summary>The user's global packages folder, which the nested restores use as a read-only fallback.</summary>
    public static string UserPackagesFolder { get; } =
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    public static CliResult Run(string workingDirectory, params string[] arguments) => Start(Host, workingDirectory, arguments);

    /// <summary>Runs any program with the same cleaned environment.</summary>
    public static CliResult Start(string fileName, string workingDirectory, params string[] arguments) =>
        Start(fileName, workingDirectory, null, arguments);

    /// <summary>Runs any program with the cleaned environment plus <paramref name="variables"/>.</summary>
    public static CliResult Start(string fileName, string workingDirectory, IReadOnlyDictionary<string, string>? variables, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (string key in start.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key == "NUGET_PACKAGES")
            {
                start.Environment.Remove(key);
            }
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach (var (name, value) in variables ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var output = new StringBuilder();
        var watch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(s_timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(" ", arguments)} ran longer than {s_timeout}.{Environment.NewLine}{output}");
        }

        process.WaitForExit();
        lock (output)
        {
            return new CliResult(process.ExitCode, output.ToString(), watch.Elapsed);
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
