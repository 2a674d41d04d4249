namespace Dsg.Core.Pipeline;

/// <summary>The phases of <see cref="QuantizePipeline"/>, in order.</summary>
public enum PipelinePhase
{
    /// <summary>Produce calibration and held-out samples (generate them or load them).</summary>
    Generate,

    /// <summary>Fold BatchNorm, plan, and calibrate activation ranges on the fp32 model.</summary>
    Calibrate,

    /// <summary>
    /// Learn the weights' rounding on the calibration samples (<see cref="Quantization.QuantizationOptions.Refine"/>);
    /// only runs, and is only reported, when a refinement is asked for.
    /// </summary>
    Refine,

    /// <summary>Quantize the weights and write the QDQ model (in memory).</summary>
    Write,

    /// <summary>Measure the quantized model against fp32 on the held-out samples, enforce the agreement guard, save the files.</summary>
    Verify,
}
