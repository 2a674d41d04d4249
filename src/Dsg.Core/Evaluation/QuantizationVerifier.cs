using Dsg.Core.Data;
using Dsg.Core.Onnx;
using Dsg.Core.Quantization;

namespace Dsg.Core.Evaluation;

/// <summary>
/// Runs the fp32 model and the quantized model side by side on samples, with every quantized activation exposed,
/// and measures top-1 agreement, output SQNR and per-activation SQNR.
/// </summary>
public static class QuantizationVerifier
{
    /// <summary>Compares <paramref name="result"/>'s quantized model with its BN-folded fp32 model.</summary>
    public static VerificationResult Verify(QuantizationResult result, CalibrationSet samples, int batchSize = 64, int threads = 0,
        CancellationToken ct = default)
    {
        var inputs = new GraphIndex(result.Folded.Graph).GraphInputs;
        var sites = result.Qdq.Activations;
        string logits = result.Folded.Graph.Output[0].Name;
        var fpNames = sites.Select(a => a.Calibration.Site.Tensor).Where(t => !inputs.Contains(t)).Prepend(logits).Distinct().ToList();
        var qNames = sites.Select(a => a.DequantizedName).Prepend(logits).ToList();
        using var fp = new OnnxRuntimeRunner(OnnxRuntimeRunner.WithOutputs(result.Folded, fpNames), threads);
        using var q = new OnnxRuntimeRunner(OnnxRuntimeRunner.WithOutputs(result.Model, qNames), threads);
        var signal = new double[sites.Count];
        var noise = new double[sites.Count];
        double outSignal = 0, outNoise = 0;
        int agree = 0;
        foreach (var (start, count) in samples.Batches(batchSize))
        {
            ct.ThrowIfCancellationRequested();
            var values = samples.Values(start, count);
            var shape = samples.BatchShape(count);
            var a = fp.Run(values, shape, fpNames).ToDictionary(r => r.Name, r => r.Floats, StringComparer.Ordinal);
            var b = q.Run(values, shape, qNames).ToDictionary(r => r.Name, r => r.Floats, StringComparer.Ordinal);
            Accumulate(a[logits], b[logits], ref outSignal, ref outNoise);
            int classes = a[logits].Length / count;
            var topA = ModelEvaluator.TopOne(a[logits], classes);
            var topB = ModelEvaluator.TopOne(b[logits], classes);
            agree += topA.Zip(topB).Count(p => p.First == p.Second);
            for (int i = 0; i < sites.Count; i++)
            {
                string tensor = sites[i].Calibration.Site.Tensor;
                var reference = inputs.Contains(tensor) ? values.ToArray() : a[tensor];
                Accumulate(reference, b[sites[i].DequantizedName], ref signal[i], ref noise[i]);
            }
        }

        var perSite = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int i = 0; i < sites.Count; i++)
        {
            perSite[sites[i].Calibration.Site.Tensor] = Sqnr.Decibels(signal[i], noise[i]);
        }

        return new VerificationResult(samples.Count, samples.Count == 0 ? double.NaN : agree / (double)samples.Count,
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
