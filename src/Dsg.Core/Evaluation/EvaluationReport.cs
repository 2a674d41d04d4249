namespace Dsg.Core.Evaluation;

/// <summary>The comparison of a candidate (quantized) model with its reference (fp32) model on the same samples.</summary>
/// <param name="Samples">How many samples were compared.</param>
/// <param name="Metric">How <paramref name="Agreement"/> was measured.</param>
/// <param name="Agreement">Top-1: the fraction of samples on which both models' top-1 class is the same; cosine: the mean cosine similarity of the two first outputs per sample.</param>
/// <param name="OutputSqnrDb">SQNR of the candidate's first output against the reference's, over all samples, in dB.</param>
/// <param name="Reference">The reference model's figures.</param>
/// <param name="Candidate">The candidate model's figures.</param>
public sealed record EvaluationReport(int Samples, AgreementMetric Metric, double Agreement, double OutputSqnrDb, ModelFigures Reference, ModelFigures Candidate)
{
    /// <summary>Reference latency ÷ candidate latency at the large batch (above 1: the candidate is faster); null when not measured.</summary>
    public double? SpeedupAtBatch => Reference.Latency is { } r && Candidate.Latency is { } c && c.BatchMs > 0 ? r.BatchMs / c.BatchMs : null;

    /// <summary>Reference file size ÷ candidate file size.</summary>
    public double SizeRatio => Candidate.FileBytes > 0 ? (double)Reference.FileBytes / Candidate.FileBytes : double.NaN;
}
