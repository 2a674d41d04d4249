using Dsg.Core;

namespace Dsg.Tool.Output;

/// <summary>
/// Where a run's events go: a live display on a terminal (<see cref="TerminalReporter"/>), plain lines when
/// redirected (<see cref="PlainReporter"/>) or the JSON-lines contract with <c>--json</c> (<see cref="JsonLinesReporter"/>).
/// </summary>
internal abstract class Reporter
{
    /// <summary>Phases a run goes through, in order.</summary>
    public static readonly string[] Phases = ["generate", "calibrate", "write", "verify"];

    /// <summary>Whether this reporter speaks JSON lines.</summary>
    public virtual bool IsJson => false;

    /// <summary>Picks the reporter for the flags and the console.</summary>
    public static Reporter Create(ToolEnvironment environment, bool json, bool verbose) =>
        json ? new JsonLinesReporter(environment.Output)
        : environment.IsTerminal ? new TerminalReporter(environment.Output, environment.Error, verbose || environment.Debug)
        : new PlainReporter(environment.Output, environment.Error, verbose || environment.Debug);

    public abstract void PhaseStarted(string phase);

    public abstract void PhaseDone(string phase, double seconds);

    public abstract void Progress(string phase, int current, int total, string message);

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
}
