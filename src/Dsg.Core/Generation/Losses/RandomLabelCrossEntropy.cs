using static TorchSharp.torch;

namespace Dsg.Core.Generation.Losses;

/// <summary>
/// Cross-entropy of the model's class scores against labels drawn uniformly once per batch. On logits (and on
/// log-probabilities, whose log-softmax is themselves) it is the usual cross-entropy; on probabilities it is the NLL
/// of their log, clamped so that a class a softmax has all but ruled out still has a finite loss. An N×K×1×1 output
/// counts as N×K.
/// </summary>
internal sealed class RandomLabelCrossEntropy : LossTerm
{
    /// <summary>
    /// The smallest probability whose log is taken: far above float32's smallest normal number, far below what a
    /// softmax gives a class it has not ruled out; above it, the gradient through a softmax is exact.
    /// </summary>
    public const double ProbabilityFloor = 1e-30;

    private RandomLabelCrossEntropy(double weight, bool onProbabilities)
        : base("ce", weight)
    {
        OnProbabilities = onProbabilities;
    }

    /// <summary>Whether the output is probabilities (NLL on their log) rather than logits.</summary>
    public bool OnProbabilities { get; }

    /// <summary>The term on logits or log-probabilities.</summary>
    public static RandomLabelCrossEntropy ForLogits(double weight) => new(weight, onProbabilities: false);

    /// <summary>The term on probabilities.</summary>
    public static RandomLabelCrossEntropy ForProbabilities(double weight) => new(weight, onProbabilities: true);

    public override Tensor Compute(LossContext context)
    {
        var labels = context.Labels ?? throw new InvalidOperationException("No labels were drawn for the batch.");
        var scores = context.Pass.Output.reshape(labels.shape[0], -1);
        return OnProbabilities
            ? nn.functional.nll_loss(scores.AtLeast(ProbabilityFloor).log(), labels)
            : nn.functional.cross_entropy(scores, labels);
    }
}
