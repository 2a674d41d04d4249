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

    /// <summary>
    /// BRECQ (Li et al., ICLR 2021) with QDrop (Wei et al., ICLR 2022): block by block (residual blocks, and single layers
    /// in a chain), learn the rounding of every weight in the block and the step size of every activation it quantizes,
    /// jointly, so the block reproduces the fp32 block's output, with activation quantization dropped at random while learning.
    /// </summary>
    Brecq,

    /// <summary>
    /// The DSG paper's quantization-aware fine-tuning: the fp32 model teaches the fake-quantized model (weights learned in
    /// full precision and quantized in every forward pass, activation step sizes learned) on the calibration samples,
    /// shifted and flipped at random (<see cref="QatRefiner"/>).
    /// </summary>
    Qat,
}
