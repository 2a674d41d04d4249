namespace Dsg.Core.Pipeline;

/// <summary>Something the pipeline reports while it runs (the tool turns each into one JSON line).</summary>
public abstract record PipelineEvent;
