namespace Dsg.Core.Graph;

/// <summary>
/// What a model's first output holds. It decides DSG's class term (cross-entropy against random labels needs class
/// scores) and how the quantized model is compared with fp32 (top-1 agreement for class scores, cosine similarity
/// otherwise).
/// </summary>
public enum OutputKind
{
    /// <summary>Class scores before any softmax: N×K (K ≥ 2) from a classifier layer (Gemm, MatMul, a bias Add, Conv).</summary>
    Logits,

    /// <summary>Class probabilities: produced by Softmax, or rows that are non-negative and sum to 1.</summary>
    Probabilities,

    /// <summary>Log-probabilities from LogSoftmax; the cross-entropy on them equals the cross-entropy on the logits.</summary>
    LogProbabilities,

    /// <summary>A feature vector per sample (N×C, or N×C×1×1) that does not come from a classifier layer.</summary>
    Embedding,

    /// <summary>A map per sample (N×K×H×W with H·W &gt; 1), for example a segmentation map.</summary>
    Dense,
}
