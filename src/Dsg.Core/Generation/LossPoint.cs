namespace Dsg.Core.Generation;

/// <summary>One point of a loss curve: the value at step <see cref="Iteration"/> (0 = before the first step) of batch <see cref="Batch"/> (1-based).</summary>
public readonly record struct LossPoint(int Batch, int Iteration, double Value);
