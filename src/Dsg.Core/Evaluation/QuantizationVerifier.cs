using Dsg.Core.Data;
using Dsg.Core.Onnx;
using Dsg.Core.Quantization;
using Dsg.Core.Runtime;

namespace Dsg.Core.Evaluation;

/// <summary>
/// Runs the fp32 model and the quantized model side by side on samples, with every quantized activation exposed,
/// and measures the agreement of the first outputs (<see cref="AgreementMetric"/>: top-1 for class scores, mean cosine
/// similarity otherwise), output SQNR and per-activation SQNR: the verify step of quantize. (Inspection's
/// ExecutorVerifier, by contrast, checks the TorchSharp executor against ONNX Runtime on the fp32 model.)
/// </summary>
public static class QuantizationVerifier
{
    /// <summary>Compares <paramref name="result"/>'s quantized model with its BN-folded fp32 model.</summary>
    /// <param name="result">The quantization.</param>
    /// <param name="samples">The held-out samples.</param>
    /// <param name="metric">How the first outputs are compared: top-1 for class scores, cosine for anything else.</param>
    /// <param name="batchSize">The most samples per ONNX Runtime call (fewer when their activations would exceed <see cref="ActivationBatcher.DefaultBudgetBytes"/>).</param>
    /// <param name="threads">ONNX Runtime intra-op threads (0: its choice).</param>
    /// <param name="ct">Checked between batches.</param>
    public static VerificationResult Verify(QuantizationResult result, CalibrationSet samples, AgreementMetric metric = AgreementMetric.TopOne,
        int batchSize = 64, int threads = 0, CancellationToken ct = default)
    {
        var inputs = new GraphIndex(result.Folded.Graph).GraphInputs;
        var sites = result.Qdq.Activations;
        string first = result.Folded.Graph.Output[0].Name;
        var fpNames = sites.Select(a => a.Calibration.Site.Tensor).Where(t => !inputs.Contains(t)).Prepend(first).Distinct().ToList();
        var qNames = sites.Select(a => a.DequantizedName).Prepend(first).ToList();
        using var fp = new OnnxRuntimeRunner(OnnxRuntimeRunner.WithOutputs(result.Folded, fpNames), threads);
        using var q = new OnnxRuntimeRunner(OnnxRuntimeRunner.WithOutputs(result.Model, qNames), threads);
        var signal = new double[sites.Count];
        var noise = new double[sites.Count];
        double outSignal = 0, outNoise = 0;
        double agree = 0;
        // Both models' activations are held at once: each gets half the budget.
        var batcher = new ActivationBatcher(samples.Count, batchSize, ActivationBatcher.DefaultBudgetBytes / 2);
        if (samples.Count > 0)
        {
            long probe = ActivationBatcher.BytesOf(fp.Run(samples.Values(0, 1), samples.BatchShape(1), fpNames));
            batcher.Measured(probe, 1);
            ActivationBatcher.ReleaseOutputs(probe);
        }

        while (batcher.TryNext(out int start, out int count))
        {
            ct.ThrowIfCancellationRequested();
            var values = samples.Values(start, count);
            var shape = samples.BatchShape(count);
            ActivationBatcher.ReleaseOutputs(CompareBatch(values, shape, count));
        }

        long CompareBatch(ReadOnlyMemory<float> values, long[] shape, int count)
        {
            var fpResults = fp.Run(values, shape, fpNames);
            long bytes = ActivationBatcher.BytesOf(fpResults);
            var a = fpResults.ToDictionary(r => r.Name, r => r.Floats, StringComparer.Ordinal);
            var b = q.Run(values, shape, qNames).ToDictionary(r => r.Name, r => r.Floats, StringComparer.Ordinal);
            Accumulate(a[first], b[first], ref outSignal, ref outNoise);
            agree += AgreementMetrics.Sum(metric, a[first], b[first], count);
            for (int i = 0; i < sites.Count; i++)
            {
                string tensor = sites[i].Calibration.Site.Tensor;
                var reference = inputs.Contains(tensor) ? values.ToArray() : a[tensor];
                Accumulate(reference, b[sites[i].DequantizedName], ref signal[i], ref noise[i]);
            }

            return 2 * bytes;
        }

        var perSite = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int i = 0; i < sites.Count; i++)
        {
            perSite[sites[i].Calibration.Site.Tensor] = Sqnr.Decibels(signal[i], noise[i]);
        }

        return new VerificationResult(samples.Count, metric, samples.Count == 0 ? double.NaN : agree / samples.Count,
            Sqnr.Decibels(outSignal, outNoise), perSite);
    }

    private static void Accumulate(float[] reference, float[] approximation, ref double signal, ref double noise)
    {
        for (int i = 0; i < reference.Length; i++)
        {
            double d = (double)reference[i] - approximation[i];
            signal += (double)reference[i] * reference[i];
            noise += d * d;
        }
    }
}
