using System.Text.Json;
using Dsg.Core;
using Dsg.Core.Evaluation;

namespace Dsg.Tool.Output;

/// <summary>
/// The machine contract consumed by the MSBuild task: one JSON object per line on standard output, each with a
/// "type" of phase, progress, warning, error or result (see docs/cli.md).
/// </summary>
internal sealed class JsonLinesReporter : Reporter
{
    private readonly TextWriter _output;
    private readonly object _gate = new();

    public JsonLinesReporter(TextWriter output, PhaseClock? clock = null)
        : base(clock)
    {
        _output = output;
    }

    public override bool IsJson => true;

    protected override void WritePhaseStarted(string phase) => Write(w =>
    {
        w.WriteString("type", "phase");
        w.WriteString("phase", phase);
        w.WriteString("status", "start");
    });

    public override void PhaseDone(string phase, double seconds) => Write(w =>
    {
        w.WriteString("type", "phase");
        w.WriteString("phase", phase);
        w.WriteString("status", "done");
        w.WriteNumber("seconds", Math.Round(seconds, 3));
    });

    protected override void WriteProgress(string phase, int current, int total, string message, ProgressTiming timing) => Write(w =>
    {
        w.WriteString("type", "progress");
        w.WriteString("phase", phase);
        w.WriteNumber("current", current);
        w.WriteNumber("total", total);
        w.WriteString("message", message);
        w.WriteNumber("elapsedSeconds", Math.Round(timing.Elapsed.TotalSeconds, 1));
        if (timing.Remaining is { } left)
        {
            w.WriteNumber("etaSeconds", Math.Round(left.TotalSeconds, 1));
        }
        else
        {
            w.WriteNull("etaSeconds");
        }
    });

    public override void Warning(string code, string message) => Write(w =>
    {
        w.WriteString("type", "warning");
        w.WriteString("code", code);
        w.WriteString("message", Configuration.OptionCatalog.WithMetadataNames(message));
    });

    public override void Note(string message)
    {
    }

    /// <summary>
    /// The error, with each setting's flag also named as MSBuild metadata (<c>--samples (MSBuild: Samples)</c>): JSON
    /// lines are what the MSBuild task reads, and its users set metadata, not flags.
    /// </summary>
    public override void Error(DsgException error) =>
        WriteError(error.Code, Configuration.OptionCatalog.WithMetadataNames(error.Message), Configuration.OptionCatalog.WithMetadataNames(error.Hint), error.FilePath);

    public override void InternalError(Exception error) =>
        WriteError("internal", $"{error.GetType().Name}: {error.Message}", "This is a bug in Dsg; run with DSG_DEBUG=1 for the stack trace and report it.", null);

    public override void Cancelled() =>
        WriteError(ErrorCodes.Cancelled, "Cancelled; nothing was written.", "Run the command again to finish the job.", null);

    public override void Result(RunResult result) => Write(w =>
    {
        w.WriteString("type", "result");
        w.WriteString("output", result.Output);
        w.WriteStartArray("reports");
        foreach (var report in result.Reports)
        {
            w.WriteStringValue(report);
        }

        w.WriteEndArray();
        w.WriteBoolean("cacheHit", result.CacheHit);
        w.WriteBoolean("remoteHit", result.RemoteHit);
        w.WriteBoolean("uploaded", result.Uploaded);
        if (result.CacheKey is null)
        {
            w.WriteNull("cacheKey");
        }
        else
        {
            w.WriteString("cacheKey", result.CacheKey);
        }

        w.WriteNumber("seconds", Math.Round(result.Seconds, 3));
        if (result.Agreement is { } agreement)
        {
            w.WriteNumber("agreement", agreement);
            w.WriteString("agreementMetric", AgreementMetrics.Name(result.Metric ?? AgreementMetric.TopOne));
        }
        else
        {
            w.WriteNull("agreement");
            w.WriteNull("agreementMetric");
        }
    });

    /// <summary>Writes one object as one line and flushes it, so a reader sees each event as it happens.</summary>
    public void Write(Action<Utf8JsonWriter> body)
    {
        var line = JsonLine.Format(body);
        lock (_gate)
        {
            _output.WriteLine(line);
            _output.Flush();
        }
    }

    private void WriteError(string code, string message, string hint, string? file) => Write(w =>
    {
        w.WriteString("type", "error");
        w.WriteString("code", code);
        w.WriteString("message", message);
        w.WriteString("hint", hint);
        if (file is not null)
        {
            w.WriteString("file", file);
        }
    });
}
