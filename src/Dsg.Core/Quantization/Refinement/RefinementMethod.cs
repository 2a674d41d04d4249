namespace Dsg.Core.Quantization.Refinement;

/// <summary>What is learned on the calibration samples after calibration, before the QDQ model is written.</summary>
public enum RefinementMethod
{
    /// <summary>Nothing: every weight is rounded to the nearest integer on its grid (plain post-training quantization).</summary>
    None,

    /// <summary>
    /// AdaRound (Nagel et al., "Up or Down? Adaptive Rounding for Post-Training Quantization", ICML 2020): layer by layer,
    /// learn for each weight whether it rounds up or down, so the layer reproduces the fp32 layer's output.
    /// </summary>
    AdaRound,
}
