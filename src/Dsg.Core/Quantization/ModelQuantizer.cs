using Dsg.Core.Data;
using Dsg.Core.Onnx;
using Dsg.Core.Quantization.Qdq;

namespace Dsg.Core.Quantization;

/// <summary>
/// Post-training quantization in one call: fold BatchNorm, plan, calibrate on the given samples, write QDQ.
/// The steps are also public on their own (<see cref="BatchNormFolder"/>, <see cref="QuantizationPlanner"/>,
/// <see cref="Calibrator"/>, <see cref="QdqWriter"/>).
/// </summary>
public static class ModelQuantizer
{
    /// <summary>Quantizes <paramref name="model"/> with ranges calibrated on <paramref name="samples"/>.</summary>
    /// <exception cref="DsgException">DSG0301 for bad options; DSG07xx for calibration problems.</exception>
    public static QuantizationResult Quantize(OnnxModel model, CalibrationSet samples, QuantizationOptions options,
        IProgress<(int Done, int Total)>? batchDone = null, CancellationToken ct = default)
    {
        var (folded, count) = BatchNormFolder.Fold(model);
        var plan = QuantizationPlanner.Plan(folded, options);
        var activations = Calibrator.Calibrate(folded, plan, samples, options, batchDone, ct);
        ct.ThrowIfCancellationRequested();
        var qdq = QdqWriter.Write(folded, plan, activations, options);
        return new QuantizationResult(folded, count, plan, activations, qdq);
    }
}
