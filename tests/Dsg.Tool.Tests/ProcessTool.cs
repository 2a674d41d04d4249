using System.Diagnostics;
using Dsg.Tests.Shared;

namespace Dsg.Tool.Tests;

/// <summary>Runs a real <c>dotnet-dsg</c> process: the built tool (dotnet dotnet-dsg.dll) or an installed command.</summary>
internal static class ProcessTool
{
    /// <summary>The build configuration of this test assembly (Debug or Release), from bin/CONFIG/net10.0.</summary>
    public static string BuildConfiguration =>
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    /// <summary>The tool built in the same configuration as this test assembly.</summary>
    public static string BuiltToolDll => Path.Combine(RepoPaths.Root, "src", "Dsg.Tool", "bin", BuildConfiguration, "net10.0", "dotnet-dsg.dll");

    /// <summary>Starts the built tool; the caller reads, waits or kills it.</summary>
    public static Process Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? executable = null)
    {
        var start = new ProcessStartInfo(executable ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (executable is null)
        {
            start.ArgumentList.Add(BuiltToolDll);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        // As a user's shell would start it: no DSG_ settings, and glibc's default malloc (so the tool relaunches itself
        // with its own settings, as it does for users; eng/native-allocator.sh sets them for the test processes themselves).
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("DSG_", StringComparison.Ordinal)
            || k is AllocatorRelaunch.ArenaVariable or AllocatorRelaunch.TunablesVariable).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return Process.Start(start)!;
    }

    /// <summary>The processes <paramref name="pid"/> started that are still running (Linux's /proc children lists).</summary>
    public static IReadOnlyList<int> Children(int pid)
    {
        var tasks = new DirectoryInfo($"/proc/{pid}/task");
        if (!tasks.Exists)
        {
            return [];
        }

        var children = new List<int>();
        foreach (var task in tasks.EnumerateDirectories())
        {
            try
            {
                children.AddRange(File.ReadAllText(Path.Combine(task.FullName, "children"))
                    .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(c => int.Parse(c, System.Globalization.CultureInfo.InvariantCulture)));
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        }

        return children;
    }

    /// <summary>Runs to the end (killing it after <paramref name="timeout"/>) and returns what it printed.</summary>
    public static async Task<ToolRun> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null,
        string? executable = null, TimeSpan? timeout = null)
    {
        using var process = Start(args, environment, executable);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet-dsg {string.Join(' ', args)} did not finish in time.\n{await output}\n{await error}");
        }

        return new ToolRun(process.ExitCode, await output, await error);
    }
}
