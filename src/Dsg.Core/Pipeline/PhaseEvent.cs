namespace Dsg.Core.Pipeline;

/// <summary>A phase started or finished; <paramref name="Seconds"/> is the phase's duration when done (0 at start).</summary>
/// <param name="Phase">The phase.</param>
/// <param name="Status">Start or done.</param>
/// <param name="Seconds">Seconds the phase took (done only).</param>
public sealed record PhaseEvent(PipelinePhase Phase, PhaseStatus Status, double Seconds) : PipelineEvent;
