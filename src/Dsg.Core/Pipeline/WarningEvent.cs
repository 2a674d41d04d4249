namespace Dsg.Core.Pipeline;

/// <summary>A problem that does not stop the run.</summary>
/// <param name="Code">A stable DSG code.</param>
/// <param name="Message">What happened.</param>
public sealed record WarningEvent(string Code, string Message) : PipelineEvent;
