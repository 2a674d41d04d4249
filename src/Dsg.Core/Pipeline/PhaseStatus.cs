namespace Dsg.Core.Pipeline;

/// <summary>Whether a phase starts or is done.</summary>
public enum PhaseStatus
{
    /// <summary>The phase starts.</summary>
    Start,

    /// <summary>The phase is done.</summary>
    Done,
}
