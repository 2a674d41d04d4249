namespace Dsg.Core.Evaluation;

/// <summary>How the quantized model's first output is compared with the fp32 model's, sample by sample.</summary>
public enum AgreementMetric
{
    /// <summary>The fraction of samples whose top-1 class is the same: for class scores (logits or probabilities).</summary>
    TopOne,

    /// <summary>
    /// The mean over samples of the cosine similarity between the two outputs (each sample's output flattened): for
    /// everything else (embeddings, dense maps), where there is no class to agree on.
    /// </summary>
    Cosine,
}
