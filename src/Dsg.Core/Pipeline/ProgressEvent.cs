namespace Dsg.Core.Pipeline;

/// <summary>Progress inside a phase: <paramref name="Current"/> of <paramref name="Total"/> steps.</summary>
/// <param name="Phase">The phase.</param>
/// <param name="Current">Steps done.</param>
/// <param name="Total">Steps in all.</param>
/// <param name="Message">A short human-readable line, for example "batch 1/2 iter 3/20 loss 0.53".</param>
public sealed record ProgressEvent(PipelinePhase Phase, int Current, int Total, string Message) : PipelineEvent;
