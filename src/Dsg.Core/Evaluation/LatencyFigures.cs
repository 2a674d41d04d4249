namespace Dsg.Core.Evaluation;

/// <summary>Median ONNX Runtime latency of one model (CPU execution provider), in milliseconds per call.</summary>
/// <param name="Batch1Ms">Median time of a batch-1 call.</param>
/// <param name="BatchMs">Median time of a call at <paramref name="BatchSize"/>.</param>
/// <param name="BatchSize">The large batch size (64 by default).</param>
public sealed record LatencyFigures(double Batch1Ms, double BatchMs, int BatchSize);
