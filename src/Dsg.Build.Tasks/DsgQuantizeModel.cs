using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Dsg.Build.Tasks;

/// <summary>
/// Quantizes one model by running <c>dotnet dsg quantize MODEL --out OUT --json ...</c> out of process and turning
/// its JSON lines into build output: one line per model at normal verbosity, phases and progress at low
/// importance, and the tool's warnings and errors as MSBuild warnings and errors with their DSG code and the model
/// as the file. The targets call it once per out-of-date model (target batching).
/// </summary>
public sealed class DsgQuantizeModel : ToolTask
{
    private const int TailLines = 20;
    private readonly Queue<string> _tail = new();
    private DsgToolLauncher? _launcher;
    private QuantizeSettings? _settings;
    private ToolMessage? _result;
    private bool _toolReportedError;

    /// <summary>One item from <see cref="DsgPrepareQuantize.QuantizedModels"/>.</summary>
    [Required]
    public ITaskItem Model { get; set; } = null!;

    /// <summary><c>$(DsgToolPath)</c>: an executable (or dotnet-dsg.dll); wins over <see cref="DsgToolCommand"/>.</summary>
    public string? DsgToolPath { get; set; }

    /// <summary><c>$(DsgToolCommand)</c>: a command line prefix, default <c>dotnet dsg</c>.</summary>
    public string? DsgToolCommand { get; set; }

    /// <summary>The project's folder; relative paths resolve against it.</summary>
    [Required]
    public string ProjectDirectory { get; set; } = string.Empty;

    /// <summary><c>$(DsgCacheDir)</c>: passed as <c>--cache-dir</c> when set.</summary>
    public string? CacheDir { get; set; }

    /// <summary><c>$(DsgNoCache)</c>: passes <c>--no-cache</c>.</summary>
    public bool NoCache { get; set; }

    /// <summary><c>$(DsgRemoteCache)</c>: passed as <c>--remote-cache</c> when set (the tool checks it).</summary>
    public string? RemoteCache { get; set; }

    /// <summary><c>$(DsgRemoteCacheMode)</c>: passed as <c>--remote-cache-mode</c> when set.</summary>
    public string? RemoteCacheMode { get; set; }

    /// <summary><c>$(DsgRemoteCacheAuthVariable)</c>: the name (never the value) of the variable with the Authorization header, passed as <c>--remote-cache-auth-variable</c>.</summary>
    public string? RemoteCacheAuthVariable { get; set; }

    /// <summary><c>$(DsgRemoteCacheTimeout)</c>: passed as <c>--remote-cache-timeout</c> when set.</summary>
    public string? RemoteCacheTimeout { get; set; }

    /// <summary><c>$(DsgRemoteCacheRetries)</c>: passed as <c>--remote-cache-retries</c> when set.</summary>
    public string? RemoteCacheRetries { get; set; }

    /// <summary>The quantized model and the reports the tool wrote, for <c>FileWrites</c>.</summary>
    [Output]
    public ITaskItem[] FilesWritten { get; private set; } = Array.Empty<ITaskItem>();

    /// <inheritdoc />
    protected override string ToolName => "dotnet-dsg";

    /// <inheritdoc />
    protected override MessageImportance StandardOutputLoggingImportance => MessageImportance.Low;

    /// <inheritdoc />
    protected override Encoding StandardOutputEncoding => Encoding.UTF8;

    /// <inheritdoc />
    protected override Encoding StandardErrorEncoding => Encoding.UTF8;

    private string ModelDisplayName => Model.GetMetadata("ModelDisplayName") is { Length: > 0 } name ? name : Model.ItemSpec;

    private string OutputPath => Model.GetMetadata("OutputPath");

    /// <inheritdoc />
    public override bool Execute()
    {
        var problems = new List<KeyValuePair<string, string>>();
        _settings = QuantizeSettings.Read(Model, ProjectDirectory, problems);
        foreach (var problem in problems)
        {
            Log.LogError(null, DsgErrorCodes.InvalidMetadata, null, _settings.ModelPath, 0, 0, 0, 0, problem.Value);
        }

        _launcher = DsgToolLauncher.Resolve(DsgToolPath, DsgToolCommand, ProjectDirectory, out string? problemText);
        if (_launcher == null)
        {
            Log.LogError(null, DsgErrorCodes.ToolNotFound, null, _settings.ModelPath, 0, 0, 0, 0,
                $"The Dsg tool cannot be found: {problemText} {SupportedToolVersions.InstallHint}");
        }

        if (Log.HasLoggedErrors)
        {
            return false;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(OutputPath)!);
        if (!base.Execute() || Log.HasLoggedErrors)
        {
            return false;
        }

        if (!File.Exists(OutputPath))
        {
            Log.LogError(null, DsgErrorCodes.ToolOutputMissing, null, _settings.ModelPath, 0, 0, 0, 0,
                $"The Dsg tool exited successfully but did not write '{OutputPath}'. Check that DsgToolPath/DsgToolCommand run the real Dsg tool.");
            return false;
        }

        // A cache hit may copy an old file; the output must be newer than the inputs or the target never becomes up to date.
        File.SetLastWriteTimeUtc(OutputPath, DateTime.UtcNow);
        var written = new List<ITaskItem> { new TaskItem(OutputPath) };
        foreach (string report in _result?.Reports ?? Array.Empty<string>())
        {
            written.Add(new TaskItem(report));
        }

        FilesWritten = written.ToArray();
        Log.LogMessage(MessageImportance.High, $"Dsg: {ModelDisplayName} -> {Model.GetMetadata("OutputName")} ({Outcome()})");
        return true;
    }

    /// <inheritdoc />
    protected override string GenerateFullPathToTool() => _launcher!.FileName;

    /// <summary>The project folder, so that <c>dotnet dsg</c> finds the repository's local tool manifest.</summary>
    protected override string GetWorkingDirectory() => ProjectDirectory;

    /// <inheritdoc />
    protected override string GenerateCommandLineCommands()
    {
        var builder = new CommandLineBuilder();
        foreach (string argument in _launcher!.LeadingArguments)
        {
            builder.AppendFileNameIfNotNull(argument);
        }

        builder.AppendSwitch("quantize");
        builder.AppendFileNameIfNotNull(_settings!.ModelPath);
        builder.AppendSwitchIfNotNull("--out ", OutputPath);
        builder.AppendSwitch("--json");
        foreach (var option in _settings.ToolOptions())
        {
            builder.AppendSwitchIfNotNull(option.Key + " ", option.Value);
        }

        if (!string.IsNullOrWhiteSpace(CacheDir))
        {
            builder.AppendSwitchIfNotNull("--cache-dir ", Path.GetFullPath(Path.Combine(ProjectDirectory, CacheDir!.Trim())));
        }

        if (NoCache)
        {
            builder.AppendSwitch("--no-cache");
        }

        // Passed unchecked, like item metadata: the tool's option catalog validates them (DSG0301 names the flag).
        foreach (var (flag, value) in new[]
        {
            ("--remote-cache", RemoteCache), ("--remote-cache-mode", RemoteCacheMode), ("--remote-cache-auth-variable", RemoteCacheAuthVariable),
            ("--remote-cache-timeout", RemoteCacheTimeout), ("--remote-cache-retries", RemoteCacheRetries),
        })
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                builder.AppendSwitchIfNotNull(flag + " ", value!.Trim());
            }
        }

        return builder.ToString();
    }

    /// <inheritdoc />
    protected override void LogToolCommand(string message) => Log.LogMessage(MessageImportance.Low, message);

    /// <inheritdoc />
    protected override void LogEventsFromTextOutput(string singleLine, MessageImportance messageImportance)
    {
        if (!ToolMessage.TryParse(singleLine, out ToolMessage message))
        {
            Remember(singleLine);
            Log.LogMessage(MessageImportance.Low, singleLine);
            return;
        }

        string file = message.File is { Length: > 0 } f ? f : _settings!.ModelPath;
        switch (message.Type)
        {
            case "error":
                _toolReportedError = true;
                Log.LogError(null, message.Code ?? DsgErrorCodes.ToolFailed, null, file, 0, 0, 0, 0, WithHint(message));
                break;
            case "warning":
                Log.LogWarning(null, message.Code, null, file, 0, 0, 0, 0, WithHint(message));
                break;
            case "result":
                _result = message;
                break;
            case "phase":
                Log.LogMessage(MessageImportance.Low,
                    $"Dsg: {ModelDisplayName}: {message.Phase} {message.Status}{(message.Seconds is double s ? $" ({s.ToString("0.0", CultureInfo.InvariantCulture)} s)" : string.Empty)}");
                break;
            case "progress":
                Log.LogMessage(MessageImportance.Low, $"Dsg: {ModelDisplayName}: {message.Phase} {message.Current}/{message.Total}{Timing(message)} {message.Message}");
                break;
            default:
                Log.LogMessage(MessageImportance.Low, singleLine);
                break;
        }
    }

    /// <inheritdoc />
    protected override bool HandleTaskExecutionErrors()
    {
        if (_toolReportedError)
        {
            return false;
        }

        string what = ExitCode == 130
            ? "was cancelled (exit code 130); nothing was written"
            : $"failed with exit code {ExitCode} without reporting a Dsg error";
        string tail = _tail.Count > 0 ? " Its last output:" + Environment.NewLine + string.Join(Environment.NewLine, _tail) : string.Empty;
        Log.LogError(null, DsgErrorCodes.ToolFailed, null, _settings!.ModelPath, 0, 0, 0, 0,
            $"The Dsg tool {what} while quantizing '{ModelDisplayName}'. Rebuild with -v:detailed to see the full tool output; " +
            $"if it crashed, report it with that output.{tail}");
        return false;
    }

    private string Outcome()
    {
        if (_result == null)
        {
            return "done";
        }

        string outcome = _result.RemoteHit ? "remote hit"
            : _result.CacheHit ? "cache hit"
            : "generated in " + (_result.Seconds ?? 0).ToString("0.0", CultureInfo.InvariantCulture) + " s" + (_result.Uploaded ? ", uploaded to the remote cache" : string.Empty);
        string metric = _result.AgreementMetric == "cosine" ? "cosine similarity" : "top-1 agreement";
        return _result.Agreement is double a
            ? outcome + ", " + metric + " " + a.ToString("0.000", CultureInfo.InvariantCulture)
            : outcome;
    }

    private void Remember(string line)
    {
        _tail.Enqueue(line);
        if (_tail.Count > TailLines)
        {
            _tail.Dequeue();
        }
    }

    /// <summary>
    /// <c> (elapsed 1m 02s, about 3m 10s left)</c>, or <c> (elapsed 5s)</c> before the tool can estimate the rest;
    /// empty for tools that do not send the times.
    /// </summary>
    private static string Timing(ToolMessage message)
    {
        if (message.ElapsedSeconds is not double elapsed)
        {
            return string.Empty;
        }

        return message.EtaSeconds is double left && left > 0
            ? $" (elapsed {DurationText.Format(elapsed)}, about {DurationText.Format(left)} left)"
            : $" (elapsed {DurationText.Format(elapsed)})";
    }

    private static string WithHint(ToolMessage message) =>
        message.Hint is { Length: > 0 } hint ? $"{message.Message} {hint}" : message.Message ?? string.Empty;
}
