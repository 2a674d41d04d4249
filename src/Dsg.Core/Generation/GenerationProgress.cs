namespace Dsg.Core.Generation;

/// <summary>
/// A progress report. <see cref="Batch"/> is 1-based; <see cref="Iteration"/> counts optimiser steps done in the
/// batch (1 to <see cref="Iterations"/>); Gaussian generation reports once per batch with both set to 0.
/// <see cref="Terms"/> holds each term's weighted contribution to <see cref="TotalLoss"/> at that step.
/// </summary>
public sealed record GenerationProgress(
    int Batch,
    int Batches,
    int Iteration,
    int Iterations,
    double TotalLoss,
    IReadOnlyDictionary<string, double> Terms,
    double LearningRate)
{
    /// <summary>Steps done over all batches so far.</summary>
    public long Current => ((long)(Batch - 1) * Iterations) + Iteration;

    /// <summary>Steps in the whole run.</summary>
    public long Total => (long)Batches * Iterations;

    /// <summary>One line for a terminal, for example <c>batch 1/2 iter 3/20 loss 0.53</c>.</summary>
    public override string ToString() => Iterations == 0
        ? $"batch {Batch}/{Batches}"
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"batch {Batch}/{Batches} iter {Iteration}/{Iterations} loss {TotalLoss:G4}");
}
