namespace Dsg.Core.Quantization;

/// <summary>How weights quantized at 8 bits are stored in the QDQ model (see <see cref="QuantizationOptions.EightBitWeights"/>).</summary>
public enum EightBitWeightStorage
{
    /// <summary>int8 on the 7-bit range [−63, 63]: ONNX Runtime's fast U8S8 kernels, no int16 saturation.</summary>
    Reduced,

    /// <summary>The full range [−127, 127] as uint8 q + 128, zero point 128: ONNX Runtime's U8U8 kernels.</summary>
    Full,
}
