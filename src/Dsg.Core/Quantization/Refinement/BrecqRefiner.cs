using System.Diagnostics;
using Dsg.Core.Data;
using Dsg.Core.Graph;
using Dsg.Core.Onnx;
using Dsg.Core.Quantization.Qdq;
using Dsg.Core.Graph.Execution;
using Dsg.Core.Runtime;

namespace Dsg.Core.Quantization.Refinement;

/// <summary>
/// BRECQ with QDrop over a whole model, block by block in graph order (<see cref="BlockPartition"/>): each block's input
/// is taken from the model quantized so far (the QDQ model with every earlier block's learned rounding and step sizes,
/// run in ONNX Runtime, mixed element-wise with the fp32 model's block input as QDrop's reference code does), its
/// targets are the fp32 model's block outputs on the same calibration samples, and
/// <see cref="BlockReconstruction"/> learns the rounding of every weight in the block and the step size of every
/// activation it quantizes, jointly. Only one block's inputs and targets are held at a time (in a scratch file past
/// 64 MiB, like the samples). The weight scales stay those of nearest rounding, so the learned integers go into the QDQ
/// model as they are; the learned activation step sizes replace the calibrated ones (and the biases' int32 scales follow).
/// With <see cref="AdaRoundSettings.Augment"/> (the default) each block learns from the calibration images and their
/// mirror images, twice the views for the same steps (docs/quantization.md: on 128 synthetic images BRECQ lost 1.4–1.7
/// pt to plain calibration on two MobileNetV2 seeds of eight without them).
/// </summary>
public static class BrecqRefiner
{
    /// <summary>Learns the rounding of every planned weight a block holds, and the step sizes of the activations it quantizes.</summary>
    /// <param name="folded">The BN-folded fp32 model the plan was made for.</param>
    /// <param name="plan">The plan.</param>
    /// <param name="activations">The calibrated activations.</param>
    /// <param name="samples">The calibration samples.</param>
    /// <param name="options">The quantization options (weight grids and ranges, ONNX Runtime batch and threads).</param>
    /// <param name="settings">Steps per block, batch, the rounding's optimiser and regulariser.</param>
    /// <param name="progress">Reported every few steps and after each block.</param>
    /// <param name="ct">Checked between steps.</param>
    /// <exception cref="DsgException">DSG0713 when a block's loss is not finite; DSG0714 when the graph cannot be cut into blocks; DSG0709 when ONNX Runtime fails; DSG0401 without TorchSharp.</exception>
    public static RefinedWeights Refine(OnnxModel folded, QuantizationPlan plan, IReadOnlyList<ActivationCalibration> activations,
        CalibrationSet samples, QuantizationOptions options, AdaRoundSettings settings, IProgress<RefinementProgress>? progress = null,
        CancellationToken ct = default)
    {
        settings = RefinableWeights.Prepare(folded, plan, activations, samples, options, settings);
        // Each block learns from the samples and their mirror images (AdaRoundSettings.Augment): twice the views for the
        // same steps, since block inputs are cached per sample and a shift drawn per step would rerun the quantized prefix.
        using var mirrored = settings.Augments(samples.SampleShape) ? samples.WithMirrored() : null;
        samples = mirrored ?? samples;
        var learnable = RefinableWeights.Of(folded, plan).ToDictionary(l => l.Site.Node, StringComparer.Ordinal);
        var blocks = BlockPartition.Find(folded, learnable.Keys.ToHashSet(StringComparer.Ordinal));
        var learnedWeights = new Dictionary<string, QuantizedWeight>(StringComparer.Ordinal);
        var learnedActivations = new Dictionary<string, QuantParams>(StringComparer.Ordinal);
        var reports = new List<LayerRefinement>();
        // A block's fp32 output that the next block reads as its input: its targets already hold it, so it is kept for
        // QDrop's block input there instead of running the fp32 model for it again.
        CalibrationSet? carried = null;
        string? carriedTensor = null;
        try
        {
            for (int b = 0; b < blocks.Count; b++)
            {
                ct.ThrowIfCancellationRequested();
                var watch = Stopwatch.StartNew();
                var block = blocks[b];
                var members = block.Nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
                var weights = block.WeightNodes.Select(node => learnable[node])
                    .Select(l => new BlockWeight(l.Site.Initializer, l.Site.Node, l.Layer, RefinableWeights.Nearest(l.Site, l.Layer, options)))
                    .ToList();
                var learnedHere = weights.Select(w => w.Initializer).ToHashSet(StringComparer.Ordinal);
                // Every other weight of the block that the plan quantizes enters as its dequantized value.
                var fixedWeights = plan.Weights.Where(w => members.Contains(w.Node) && !learnedHere.Contains(w.Initializer))
                    .DistinctBy(w => w.Initializer, StringComparer.Ordinal)
                    .ToDictionary(w => w.Initializer, w => RefinableWeights.Dequantized(folded, w, learnedWeights, options), StringComparer.Ordinal);
                var sites = block.QuantizedInside(activations, folded);

                var quantized = QdqWriter.Write(folded, plan, activations, options, new RefinedWeights(learnedWeights, [], learnedActivations));
                string input = quantized.Activations.FirstOrDefault(a => a.Calibration.Site.Tensor == block.Input)?.DequantizedName ?? block.Input;
                using var inputs = AdaRoundRefiner.Collect(quantized.Model, input, samples, options, ct);
                var targets = new List<CalibrationSet>();
                // The fp32 model's block input, which QDrop mixes into the quantized one (the samples themselves before the first block).
                bool atGraphInput = folded.Graph.Input.Any(i => i.Name == block.Input);
                CalibrationSet? fullPrecisionInputs = null;
                try
                {
                    if (!atGraphInput && carriedTensor == block.Input)
                    {
                        (fullPrecisionInputs, carried, carriedTensor) = (carried, null, null);
                    }
                    else if (!atGraphInput)
                    {
                        fullPrecisionInputs = AdaRoundRefiner.Collect(folded, block.Input, samples, options, ct);
                    }

                    AdaRoundRefiner.CollectEach(folded, block.Outputs, samples, options, targets, ct);

                    var sub = BlockModel.Build(folded, block, inputs.SampleShape, weights.ToDictionary(w => w.Initializer, w => w.Layer.Dims, StringComparer.Ordinal), fixedWeights);
                    using var graph = TorchGraph.Create(sub);
                    int blockNumber = b + 1;
                    string name = block.WeightNodes[0];
                    int every = Math.Max(1, settings.Iterations / 50);
                    var result = BlockReconstruction.Run(graph, block, weights, sites, inputs, fullPrecisionInputs ?? samples, targets, settings with { Seed = settings.Seed + b },
                        (step, loss) =>
                        {
                            if (step % every == 0 || step == settings.Iterations)
                            {
                                progress?.Report(new RefinementProgress(blockNumber, blocks.Count, name, step, settings.Iterations, loss, "block"));
                            }
                        },
                        ct);
                    foreach (var (initializer, weight) in result.Weights)
                    {
                        learnedWeights[initializer] = weight;
                    }

                    foreach (var (tensor, parameters) in result.Activations)
                    {
                        learnedActivations[tensor] = parameters;
                    }

                    double seconds = watch.Elapsed.TotalSeconds;
                    foreach (var w in weights)
                    {
                        var weight = result.Weights[w.Initializer];
                        int changed = weight.Values.Zip(w.Nearest.Values).Count(p => p.First != p.Second);
                        reports.Add(new LayerRefinement(w.Node, w.Initializer, settings.Iterations, result.NearestError, result.LearnedError,
                            changed / (double)Math.Max(1, weight.Values.Length), seconds / weights.Count));
                    }
                }
                finally
                {
                    fullPrecisionInputs?.Dispose();
                    carried?.Dispose();
                    (carried, carriedTensor) = (null, null);
                    string? next = b + 1 < blocks.Count ? blocks[b + 1].Input : null;
                    for (int o = 0; o < targets.Count; o++)
                    {
                        if (carried is null && block.Outputs[o] == next)
                        {
                            (carried, carriedTensor) = (targets[o], next);
                        }
                        else
                        {
                            targets[o].Dispose();
                        }
                    }
                }
            }
        }
        finally
        {
            carried?.Dispose();
        }

        return new RefinedWeights(learnedWeights, reports, learnedActivations);
    }
}
