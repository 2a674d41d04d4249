using Dsg.Core.Data;
using Dsg.Core.Onnx;
using Dsg.Core.Quantization.Qdq;
using Dsg.Core.Quantization.Refinement;

namespace Dsg.Core.Quantization;

/// <summary>
/// Post-training quantization in one call: fold BatchNorm, plan, calibrate on the given samples, refine (when
/// <see cref="QuantizationOptions.Refine"/> asks for it, on the same samples), write QDQ. The steps are also public on
/// their own (<see cref="BatchNormFolder"/>, <see cref="QuantizationPlanner"/>, <see cref="Calibrator"/>,
/// <see cref="AdaRoundRefiner"/>, <see cref="QdqWriter"/>).
/// </summary>
public static class ModelQuantizer
{
    /// <summary>Quantizes <paramref name="model"/> with ranges calibrated on <paramref name="samples"/>.</summary>
    /// <exception cref="DsgException">DSG0301 for bad options; DSG07xx for calibration and refinement problems.</exception>
    public static QuantizationResult Quantize(OnnxModel model, CalibrationSet samples, QuantizationOptions options,
        IProgress<(int Done, int Total)>? batchDone = null, CancellationToken ct = default, IProgress<RefinementProgress>? refineProgress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (folded, statistics) = BatchNormFolder.FoldWithStatistics(model);
        var plan = QuantizationPlanner.Plan(folded, options);
        var activations = Calibrator.Calibrate(folded, plan, samples, options, batchDone, ct);
        ct.ThrowIfCancellationRequested();
        var refined = Refine(folded, statistics, plan, activations, samples, options, refineProgress, ct);
        ct.ThrowIfCancellationRequested();
        var qdq = QdqWriter.Write(folded, plan, activations, options, refined);
        return new QuantizationResult(folded, statistics.Count, plan, activations, qdq) { Refinement = refined };
    }

    /// <summary>The refinement <paramref name="options"/> ask for, on the calibration samples; <see cref="RefinedWeights.None"/> for none.</summary>
    /// <exception cref="DsgException">DSG0713 when a layer's or block's reconstruction error is not finite; DSG0714 when BRECQ cannot cut the graph into blocks; DSG0709 when ONNX Runtime fails.</exception>
    /// <param name="folded">The BN-folded model the plan was made for.</param>
    /// <param name="statistics">The BatchNorms folded into it (quantization-aware fine-tuning's statistics term reads them).</param>
    /// <param name="plan">The plan.</param>
    /// <param name="activations">The calibrated activations.</param>
    /// <param name="samples">The calibration samples.</param>
    /// <param name="options">What to refine, and how.</param>
    /// <param name="progress">Reported per layer, block or step.</param>
    /// <param name="ct">Checked between steps.</param>
    public static RefinedWeights Refine(OnnxModel folded, IReadOnlyList<FoldedBatchNorm> statistics, QuantizationPlan plan, IReadOnlyList<ActivationCalibration> activations,
        CalibrationSet samples, QuantizationOptions options, IProgress<RefinementProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Refine switch
        {
            RefinementMethod.AdaRound => AdaRoundRefiner.Refine(folded, plan, activations, samples, options, options.AdaRound, progress, ct),
            RefinementMethod.Brecq => BrecqRefiner.Refine(folded, plan, activations, samples, options, options.AdaRound, progress, ct),
            RefinementMethod.Qat => QatRefiner.Refine(folded, statistics, plan, activations, samples, options, options.AdaRound, progress, ct),
            _ => RefinedWeights.None,
        };
    }
}
