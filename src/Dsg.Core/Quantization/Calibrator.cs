using Dsg.Core.Data;
using Dsg.Core.Onnx;
using Dsg.Core.Quantization.Observers;
using Dsg.Core.Runtime;

namespace Dsg.Core.Quantization;

/// <summary>
/// Runs the fp32 (BN-folded) model in ONNX Runtime over the calibration samples, batch by batch, with every planned
/// activation exposed as a graph output, and feeds one observer per activation (histograms merged per batch, nothing
/// kept). The observers then choose the ranges. Batches are sized to a memory budget (<see cref="ActivationBatcher"/>).
/// </summary>
public static class Calibrator
{
    /// <summary>Calibrates every activation site of <paramref name="plan"/>.</summary>
    /// <param name="folded">The BN-folded fp32 model the plan was made for.</param>
    /// <param name="plan">The plan.</param>
    /// <param name="samples">Calibration samples in the model's input space.</param>
    /// <param name="options">Observer, batch size and threads.</param>
    /// <param name="batchDone">Reports (batches done, batches in all) after each batch.</param>
    /// <param name="ct">Cancels between batches.</param>
    /// <exception cref="DsgException">DSG0704 for no samples; DSG0705 for NaN activations; DSG0709 when ONNX Runtime fails.</exception>
    public static IReadOnlyList<ActivationCalibration> Calibrate(OnnxModel folded, QuantizationPlan plan, CalibrationSet samples,
        QuantizationOptions options, IProgress<(int Done, int Total)>? batchDone = null, CancellationToken ct = default)
    {
        if (samples.Count == 0)
        {
            throw new DsgException(ErrorCodes.CalibrationDataEmpty, "There are no calibration samples.",
                "Pass at least one sample (256 is typical) with --samples or --calibration-data.");
        }

        var observers = plan.Activations.ToDictionary(a => a.Tensor,
            _ => ActivationObserverFactory.Create(options.EffectiveObserver, options.Percentile), StringComparer.Ordinal);
        var inputs = new GraphIndex(folded.Graph).GraphInputs;
        var tapped = plan.Activations.Select(a => a.Tensor).Where(t => !inputs.Contains(t)).ToList();
        using var runner = new OnnxRuntimeRunner(OnnxRuntimeRunner.WithOutputs(folded, tapped), options.Threads);
        var batcher = new ActivationBatcher(samples.Count, options.BatchSize);
        if (tapped.Count > 0)
        {
            ActivationBatcher.ReleaseOutputs(Probe());
        }

        while (batcher.TryNext(out int start, out int count))
        {
            ct.ThrowIfCancellationRequested();
            var values = samples.Values(start, count);
            foreach (var site in plan.Activations.Where(a => inputs.Contains(a.Tensor)))
            {
                observers[site.Tensor].Observe(values.Span, count);
            }

            if (tapped.Count > 0)
            {
                ActivationBatcher.ReleaseOutputs(ObserveBatch(values, count));
            }

            batchDone?.Report((batcher.Done, batcher.Total));
        }

        long Probe()
        {
            long bytes = ActivationBatcher.BytesOf(runner.Run(samples.Values(0, 1), samples.BatchShape(1), tapped));
            batcher.Measured(bytes, 1);
            return bytes;
        }

        long ObserveBatch(ReadOnlyMemory<float> values, int count)
        {
            var results = runner.Run(values, samples.BatchShape(count), tapped);
            long bytes = ActivationBatcher.BytesOf(results);
            foreach (var result in results)
            {
                observers[result.Name].Observe(result.Floats, count);
            }

            return bytes;
        }

        return plan.Activations.Select(site =>
        {
            var observer = observers[site.Tensor];
            var grid = IntegerGrid.Unsigned(site.Bits);
            var (min, max) = observer.ChooseRange(grid);
            var (seenMin, seenMax) = observer.Observed;
            return new ActivationCalibration(site, seenMin, seenMax, QuantParams.FromRange(min, max, grid));
        }).ToList();
    }
}
