namespace Dsg.Core.Pipeline;

/// <summary>Something the user should know about the run that is not a problem (for example the budget's choice).</summary>
/// <param name="Message">The note.</param>
public sealed record NoteEvent(string Message) : PipelineEvent;
