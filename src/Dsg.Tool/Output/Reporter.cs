using Dsg.Core;

namespace Dsg.Tool.Output;

/// <summary>
/// Where a run's events go: a live display on a terminal (<see cref="TerminalReporter"/>), plain lines when
/// redirected (<see cref="PlainReporter"/>) or the JSON-lines contract with <c>--json</c> (<see cref="JsonLinesReporter"/>).
/// </summary>
internal abstract class Reporter
{
    /// <summary>Phases a run goes through, in order (refine only with a refinement).</summary>
    public static readonly string[] Phases = ["generate", "calibrate", "refine", "write", "verify"];

    /// <summary>Creates a reporter that times phases with <paramref name="clock"/> (the process's timer when null).</summary>
    protected Reporter(PhaseClock? clock)
    {
        Clock = clock ?? PhaseClock.StartNew();
    }

    /// <summary>Whether this reporter speaks JSON lines.</summary>
    public virtual bool IsJson => false;

    /// <summary>Times the running phase for the progress lines.</summary>
    protected PhaseClock Clock { get; }

    /// <summary>Picks the reporter for the flags and the console.</summary>
    public static Reporter Create(ToolEnvironment environment, bool json, bool verbose) =>
        json ? new JsonLinesReporter(environment.Output)
        : environment.IsTerminal ? new TerminalReporter(environment.Output, environment.Error, verbose || environment.Debug)
        : new PlainReporter(environment.Output, environment.Error, verbose || environment.Debug);

    /// <summary>A phase starts (its clock too).</summary>
    public void PhaseStarted(string phase)
    {
        Clock.Start(phase);
        WritePhaseStarted(phase);
    }

    public abstract void PhaseDone(string phase, double seconds);

    /// <summary><paramref name="current"/> of <paramref name="total"/> steps of <paramref name="phase"/> are done; shown with the time taken and left.</summary>
    public void Progress(string phase, int current, int total, string message) =>
        WriteProgress(phase, current, total, message, Clock.Measure(phase, current, total));

    public abstract void Warning(string code, string message);

    /// <summary>A human status line (not shown in JSON mode).</summary>
    public abstract void Note(string message);

    /// <summary>A user-fixable error: one line with its code, then the hint.</summary>
    public abstract void Error(DsgException error);

    /// <summary>A bug: a short message; the stack only when verbose.</summary>
    public abstract void InternalError(Exception error);

    /// <summary>The run was cancelled and cleaned up.</summary>
    public abstract void Cancelled();

    /// <summary>The final result of a run that writes files.</summary>
    public abstract void Result(RunResult result);

    protected abstract void WritePhaseStarted(string phase);

    protected abstract void WriteProgress(string phase, int current, int total, string message, ProgressTiming timing);
}
