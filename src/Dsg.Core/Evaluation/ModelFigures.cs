namespace Dsg.Core.Evaluation;

/// <summary>What the evaluator measured for one model.</summary>
/// <param name="Name">The model's path or name.</param>
/// <param name="FileBytes">Its size in bytes (serialized size for an in-memory model).</param>
/// <param name="Accuracy">Top-1 accuracy against the labels, when labels were given.</param>
/// <param name="Latency">Latency figures, when measured.</param>
public sealed record ModelFigures(string Name, long FileBytes, double? Accuracy, LatencyFigures? Latency);
