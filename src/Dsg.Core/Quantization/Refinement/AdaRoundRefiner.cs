using System.Diagnostics;
using Dsg.Core.Data;
using Dsg.Core.Graph.Execution;
using Dsg.Core.Onnx;
using Dsg.Core.Quantization.Qdq;
using Dsg.Core.Runtime;

namespace Dsg.Core.Quantization.Refinement;

/// <summary>
/// AdaRound over a whole model, layer by layer in graph order: each weight layer's input is taken from the model quantized
/// so far (the QDQ model with the layers before it already rounded as learned, activations quantized with their calibrated
/// parameters, run in ONNX Runtime), its target is the fp32 layer's output on the same calibration samples, and
/// <see cref="LayerReconstruction"/> learns its rounding. Only one layer's inputs and targets are held at a time (in a
/// scratch file past 64 MiB, like the samples); the scales stay those of nearest rounding, so the learned integers go into
/// the QDQ model as they are.
/// </summary>
public static class AdaRoundRefiner
{
    /// <summary>Learns the rounding of every planned weight AdaRound can refine (Conv, Gemm, MatMul).</summary>
    /// <param name="folded">The BN-folded fp32 model the plan was made for.</param>
    /// <param name="plan">The plan.</param>
    /// <param name="activations">The calibrated activations.</param>
    /// <param name="samples">The calibration samples.</param>
    /// <param name="options">The quantization options (weight grids and ranges, ONNX Runtime batch and threads).</param>
    /// <param name="settings">AdaRound's steps and optimiser.</param>
    /// <param name="progress">Reported every few steps and after each layer.</param>
    /// <param name="ct">Checked between steps.</param>
    /// <exception cref="DsgException">DSG0713 when a layer's loss is not finite; DSG0709 when ONNX Runtime fails; DSG0401 without TorchSharp.</exception>
    public static RefinedWeights Refine(OnnxModel folded, QuantizationPlan plan, IReadOnlyList<ActivationCalibration> activations,
        CalibrationSet samples, QuantizationOptions options, AdaRoundSettings settings, IProgress<RefinementProgress>? progress = null,
        CancellationToken ct = default)
    {
        settings = RefinableWeights.Prepare(folded, plan, activations, samples, options, settings);
        var nodes = folded.Graph.Node.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var layers = RefinableWeights.Of(folded, plan);
        var learned = new Dictionary<string, QuantizedWeight>(StringComparer.Ordinal);
        var reports = new List<LayerRefinement>();
        for (int k = 0; k < layers.Count; k++)
        {
            ct.ThrowIfCancellationRequested();
            var watch = Stopwatch.StartNew();
            var (site, layer) = layers[k];
            var nearest = RefinableWeights.Nearest(site, layer, options);
            var quantized = QdqWriter.Write(folded, plan, activations, options, new RefinedWeights(learned, [])).Model;
            string input = quantized.Graph.Node.First(n => n.Name == site.Node).Input[0];
            using var inputs = Collect(quantized, input, samples, options, ct);
            using var targets = Collect(folded, nodes[site.Node].Output[0], samples, options, ct);
            int layerNumber = k + 1;
            int every = Math.Max(1, settings.Iterations / 50);
            var (weight, nearestError, learnedError) = LayerReconstruction.Run(layer, nearest, inputs, targets,
                settings with { Seed = settings.Seed + k },
                (step, loss) =>
                {
                    if (step % every == 0 || step == settings.Iterations)
                    {
                        progress?.Report(new RefinementProgress(layerNumber, layers.Count, site.Node, step, settings.Iterations, loss));
                    }
                },
                ct);
            learned[site.Initializer] = weight;
            int changed = weight.Values.Zip(nearest.Values).Count(p => p.First != p.Second);
            reports.Add(new LayerRefinement(site.Node, site.Initializer, settings.Iterations, nearestError, learnedError,
                changed / (double)Math.Max(1, weight.Values.Length), watch.Elapsed.TotalSeconds));
        }

        return new RefinedWeights(learned, reports);
    }

    /// <summary>Each of <paramref name="tensors"/> of <paramref name="model"/> for every sample (<see cref="Collect"/>), appended to <paramref name="into"/> (which the caller disposes, also when this throws).</summary>
    internal static void CollectEach(OnnxModel model, IEnumerable<string> tensors, CalibrationSet samples, QuantizationOptions options, List<CalibrationSet> into, CancellationToken ct)
    {
        foreach (var tensor in tensors)
        {
            into.Add(Collect(model, tensor, samples, options, ct));
        }
    }

    /// <summary>Tensor <paramref name="tensor"/> of <paramref name="model"/> (run in ONNX Runtime) for every sample, batch by batch.</summary>
    internal static CalibrationSet Collect(OnnxModel model, string tensor, CalibrationSet samples, QuantizationOptions options, CancellationToken ct)
    {
        using var runner = new OnnxRuntimeRunner(OnnxRuntimeRunner.WithOutputs(model, [tensor]), options.Threads);
        CalibrationSet? set = null;
        long collected = 0;
        try
        {
            foreach (var (start, count) in samples.Batches(options.BatchSize))
            {
                ct.ThrowIfCancellationRequested();
                var result = runner.Run(samples.Values(start, count), samples.BatchShape(count), [tensor])[0];
                if (set is null)
                {
                    long perSample = result.Shape.Skip(1).Aggregate(1L, (a, d) => a * d);
                    set = new CalibrationSet(SampleBuffer.Create(perSample * samples.Count), [samples.Count, .. result.Shape[1..]]);
                }

                set.Write(start, result.Floats);
                // The batches' managed copies sit on the large-object heap until a collection: release them every
                // 32 MiB, so peak memory follows one batch, not the number of ONNX Runtime calls.
                collected += ActivationBatcher.BytesOf([result]);
                if (collected >= ActivationBatcher.ReleaseThresholdBytes)
                {
                    ActivationBatcher.ReleaseOutputs(collected);
                    collected = 0;
                }
            }

            return set ?? throw new DsgException(ErrorCodes.CalibrationDataEmpty, "There are no calibration samples.",
                "Pass at least one sample (256 is typical) with --samples or --calibration-data.");
        }
        catch
        {
            set?.Dispose();
            throw;
        }
    }
}
