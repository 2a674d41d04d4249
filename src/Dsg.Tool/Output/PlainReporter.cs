using System.Diagnostics;
using System.Globalization;

namespace Dsg.Tool.Output;

/// <summary>Output redirected to a file or pipe: one plain line per phase change, and progress at most every few seconds.</summary>
internal sealed class PlainReporter : HumanReporter
{
    private static readonly TimeSpan s_progressInterval = TimeSpan.FromSeconds(5);
    private readonly Stopwatch _sinceProgress = Stopwatch.StartNew();

    public PlainReporter(TextWriter output, TextWriter error, bool verbose)
        : base(output, error, verbose)
    {
    }

    public override void PhaseStarted(string phase) => Err.WriteLine($"{phase}: started");

    public override void PhaseDone(string phase, double seconds) =>
        Err.WriteLine($"{phase}: done in {seconds.ToString("0.0", CultureInfo.InvariantCulture)} s");

    public override void Progress(string phase, int current, int total, string message)
    {
        if (current == total || _sinceProgress.Elapsed >= s_progressInterval || Verbose)
        {
            _sinceProgress.Restart();
            Err.WriteLine($"{phase}: {current}/{total} {message}".TrimEnd());
        }
    }
}
