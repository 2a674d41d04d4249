using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text;

namespace Dsg.Build.Tasks;

/// <summary>
/// Runs the Dsg tool for a short answer (its version, its resolved settings) and collects what it prints. The long
/// quantize run goes through <see cref="DsgQuantizeModel"/> (a ToolTask) instead.
/// </summary>
internal sealed class ToolProcess
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);
    private volatile Process? _process;

    /// <summary>Kills the running process, if any (the build was cancelled).</summary>
    public void Cancel()
    {
        try
        {
            _process?.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    /// <summary>
    /// Runs the tool with <paramref name="arguments"/> after the launcher's own; returns the exit code (-1 on a
    /// timeout), standard output and standard error.
    /// </summary>
    /// <exception cref="System.ComponentModel.Win32Exception">The executable cannot be started.</exception>
    public (int ExitCode, string Output, string Error) Run(DsgToolLauncher launcher, IEnumerable<string> arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(launcher.FileName, Join(launcher.LeadingArguments.Concat(arguments)))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
            WorkingDirectory = workingDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        using Process process = Process.Start(start)!;
        _process = process;
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data != null)
            {
                lock (stderr)
                {
                    stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit((int)s_timeout.TotalMilliseconds))
        {
            Cancel();
            return (-1, stdout, $"no answer within {s_timeout.TotalSeconds} s");
        }

        process.WaitForExit();
        lock (stderr)
        {
            return (process.ExitCode, stdout, stderr.ToString());
        }
    }

    /// <summary>A Windows-style command line (what ProcessStartInfo.Arguments parses on every OS).</summary>
    internal static string Join(IEnumerable<string> arguments)
    {
        var line = new StringBuilder();
        foreach (string argument in arguments)
        {
            if (line.Length > 0)
            {
                line.Append(' ');
            }

            if (argument.Length > 0 && argument.IndexOfAny(new[] { ' ', '\t', '"' }) < 0)
            {
                line.Append(argument);
                continue;
            }

            line.Append('"');
            int backslashes = 0;
            foreach (char c in argument)
            {
                if (c == '\\')
                {
                    backslashes++;
                    continue;
                }

                line.Append('\\', c == '"' ? backslashes * 2 + 1 : backslashes);
                backslashes = 0;
                line.Append(c);
            }

            line.Append('\\', backslashes * 2).Append('"');
        }

        return line.ToString();
    }
}
