namespace Dsg.Core.Evaluation;

/// <summary>A quantized model measured against its fp32 model on held-out samples.</summary>
/// <param name="Samples">How many samples.</param>
/// <param name="Metric">How <paramref name="Agreement"/> was measured.</param>
/// <param name="Agreement">Top-1: the fraction of samples with the same top-1 class; cosine: the mean cosine similarity of the first outputs per sample.</param>
/// <param name="OutputSqnrDb">SQNR of the first output, in dB.</param>
/// <param name="ActivationSqnrDb">Per quantized activation (fp32 tensor name): SQNR of its dequantized value in the
/// quantized model against the fp32 value, in dB (errors of earlier layers included).</param>
public sealed record VerificationResult(int Samples, AgreementMetric Metric, double Agreement, double OutputSqnrDb, IReadOnlyDictionary<string, double> ActivationSqnrDb);
