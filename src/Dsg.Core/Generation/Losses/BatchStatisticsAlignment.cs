using static TorchSharp.torch;

namespace Dsg.Core.Generation.Losses;

/// <summary>
/// ZeroQ's BN term: the statistics of the whole batch (mean and std over N, H, W) are aligned exactly with the
/// running statistics: Σ_l Σ_c (μ_batch − μ)² + (σ_batch − σ)². No margins, no per-sample weighting.
/// </summary>
internal sealed class BatchStatisticsAlignment : LossTerm
{
    /// <param name="weight">The term's weight.</param>
    /// <param name="name">Its curve name: <c>bn</c> as ZeroQ's BatchNorm term, <c>bn-batch</c> beside DSG's SDA.</param>
    public BatchStatisticsAlignment(double weight, string name = "bn")
        : base(name, weight)
    {
    }

    public override Tensor Compute(LossContext context) => Loss(context.BatchNormMoments, context.Targets);

    /// <summary>The term from the per-sample moments of every BatchNorm input (<see cref="LossContext.BatchNormMoments"/>).</summary>
    public static Tensor Loss(IReadOnlyList<(Tensor Mean, Tensor Variance)> batchNormMoments, IReadOnlyList<BatchNormTarget> targets)
    {
        Tensor? total = null;
        for (int l = 0; l < targets.Count; l++)
        {
            var (mean, std) = ActivationStatistics.PerBatch(batchNormMoments[l]);
            var layer = (mean - targets[l].Mean).Squared().sum().Plus((std - targets[l].Sigma).Squared().sum());
            total = total is null ? layer : total.Plus(layer);
        }

        return total ?? throw new InvalidOperationException("The model has no BatchNorm layers.");
    }
}
