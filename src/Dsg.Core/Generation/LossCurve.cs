namespace Dsg.Core.Generation;

/// <summary>
/// The weighted value of one loss term (or <c>total</c>) at a coarse stride over every batch. Term names:
/// <c>bn</c> (SDA+LSE for DSG, batch alignment for ZeroQ), <c>input</c>, <c>sci</c>, <c>ce</c>, <c>tv</c>, <c>l2</c>.
/// </summary>
public sealed record LossCurve(string Term, IReadOnlyList<LossPoint> Points)
{
    /// <summary>The points of one batch (1-based), in iteration order.</summary>
    public IEnumerable<LossPoint> ForBatch(int batch) => Points.Where(p => p.Batch == batch);
}
