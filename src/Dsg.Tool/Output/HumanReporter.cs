using System.Globalization;
using Dsg.Core;
using Dsg.Core.Evaluation;

namespace Dsg.Tool.Output;

/// <summary>Text for people: errors as <c>error DSG0xxx: message</c> plus the hint on standard error, results on standard output.</summary>
internal abstract class HumanReporter : Reporter
{
    protected HumanReporter(TextWriter output, TextWriter error, bool verbose, PhaseClock? clock)
        : base(clock)
    {
        Out = output;
        Err = error;
        Verbose = verbose;
    }

    protected TextWriter Out { get; }

    protected TextWriter Err { get; }

    protected bool Verbose { get; }

    public override void Warning(string code, string message)
    {
        ClearLine();
        Err.WriteLine($"warning {code}: {message}");
    }

    public override void Note(string message)
    {
        ClearLine();
        Err.WriteLine(message);
    }

    public override void Error(DsgException error)
    {
        ClearLine();
        Err.WriteLine($"error {error.Code}: {error.Message}");
        if (!string.IsNullOrEmpty(error.Hint))
        {
            Err.WriteLine($"  hint: {error.Hint}");
        }

        if (Verbose)
        {
            Err.WriteLine(error.StackTrace);
        }
    }

    public override void InternalError(Exception error)
    {
        ClearLine();
        Err.WriteLine($"error: internal error: {error.GetType().Name}: {error.Message}");
        Err.WriteLine(Verbose ? error.ToString() : "  hint: this is a bug in Dsg; run with --verbose or DSG_DEBUG=1 for the stack trace and report it.");
    }

    public override void Cancelled()
    {
        ClearLine();
        Err.WriteLine($"error {ErrorCodes.Cancelled}: cancelled; partial outputs were removed and nothing was cached.");
    }

    public override void Result(RunResult result)
    {
        ClearLine();
        Out.WriteLine($"wrote {result.Output}");
        foreach (var report in result.Reports)
        {
            Out.WriteLine($"wrote {report}");
        }

        var metric = result.Metric ?? AgreementMetric.TopOne;
        var agreement = result.Agreement is { } a ? $", {AgreementMetrics.Describe(metric)} with fp32 {AgreementMetrics.Format(metric, a)}" : "";
        var cache = result.CacheKey is null ? "cache not used"
            : result.RemoteHit ? $"remote hit {result.CacheKey[..12]}"
            : result.CacheHit ? $"cache hit {result.CacheKey[..12]}"
            : result.Uploaded ? $"cached as {result.CacheKey[..12]} and uploaded to the remote cache"
            : $"cached as {result.CacheKey[..12]}";
        Out.WriteLine($"done in {result.Seconds.ToString("0.0", CultureInfo.InvariantCulture)} s ({cache}{agreement})");
    }

    /// <summary>Removes a live progress line before other text is printed.</summary>
    protected virtual void ClearLine()
    {
    }
}
