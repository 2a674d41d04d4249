using static TorchSharp.torch;

namespace Dsg.Core.Generation.Losses;

/// <summary>Cross-entropy of the model's logits against labels drawn uniformly once per batch.</summary>
internal sealed class RandomLabelCrossEntropy : LossTerm
{
    public RandomLabelCrossEntropy(double weight)
        : base("ce", weight)
    {
    }

    public override Tensor Compute(LossContext context) =>
        nn.functional.cross_entropy(context.Pass.Output, context.Labels ?? throw new InvalidOperationException("No labels were drawn for the batch."));
}
