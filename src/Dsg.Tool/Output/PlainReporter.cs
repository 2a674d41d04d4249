using System.Globalization;

namespace Dsg.Tool.Output;

/// <summary>Output redirected to a file or pipe: one plain line per phase change, and progress at most every few seconds.</summary>
internal sealed class PlainReporter : HumanReporter
{
    private static readonly TimeSpan s_progressInterval = TimeSpan.FromSeconds(5);
    private TimeSpan _lastProgress;

    public PlainReporter(TextWriter output, TextWriter error, bool verbose, PhaseClock? clock = null)
        : base(output, error, verbose, clock)
    {
        _lastProgress = Clock.Now;
    }

    public override void PhaseDone(string phase, double seconds) =>
        Err.WriteLine($"{phase}: done in {seconds.ToString("0.0", CultureInfo.InvariantCulture)} s");

    protected override void WritePhaseStarted(string phase) => Err.WriteLine($"{phase}: started");

    protected override void WriteProgress(string phase, int current, int total, string message, ProgressTiming timing)
    {
        var now = Clock.Now;
        if (current == total || now - _lastProgress >= s_progressInterval || Verbose)
        {
            _lastProgress = now;
            Err.WriteLine($"{phase}: {current}/{total} ({timing.Describe()}) {message}".TrimEnd());
        }
    }
}
