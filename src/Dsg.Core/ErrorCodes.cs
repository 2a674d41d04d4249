namespace Dsg.Core;

/// <summary>
/// Every stable error code Dsg emits. docs/errors.md documents each one; a test checks that list and this
/// one agree. Codes are never reused for another meaning.
/// </summary>
public static class ErrorCodes
{
    // 01xx: reading the model.
    /// <summary>The model file does not exist.</summary>
    public const string ModelNotFound = "DSG0101";
    /// <summary>The file is not an ONNX protobuf.</summary>
    public const string NotOnnx = "DSG0102";
    /// <summary>The file ends before the protobuf does.</summary>
    public const string TruncatedModel = "DSG0103";
    /// <summary>An external-data location points outside the model's folder.</summary>
    public const string ExternalDataOutsideModel = "DSG0104";
    /// <summary>An external-data file is missing or shorter than the tensor needs.</summary>
    public const string ExternalDataMissing = "DSG0105";
    /// <summary>The model has no graph, no inputs or a tensor type Dsg cannot read.</summary>
    public const string MalformedModel = "DSG0106";

    // 02xx: whether DSG can run on the model.
    /// <summary>The model has no BatchNormalization nodes (usually folded at export).</summary>
    public const string NoBatchNorm = "DSG0201";
    /// <summary>The model uses operators the executor does not implement.</summary>
    public const string UnsupportedOps = "DSG0202";
    /// <summary>An input has a dynamic dimension other than the batch and no declared shape.</summary>
    public const string DynamicInputShape = "DSG0203";
    /// <summary>The model does not have exactly one image input of rank 4.</summary>
    public const string UnsupportedInput = "DSG0204";
    /// <summary>A node's attributes or inputs are outside what the executor supports.</summary>
    public const string UnsupportedNode = "DSG0205";

    // 03xx: options.
    /// <summary>An option has a bad value.</summary>
    public const string BadOption = "DSG0301";
    /// <summary>The configuration file has an unknown key or cannot be parsed.</summary>
    public const string BadConfiguration = "DSG0302";
    /// <summary>CUDA was requested and TorchSharp reports no CUDA runtime.</summary>
    public const string CudaUnavailable = "DSG0303";

    // 04xx: native runtime.
    /// <summary>TorchSharp's native libraries could not be loaded.</summary>
    public const string TorchUnavailable = "DSG0401";

    // 05xx: graph executor. (owner: Graph/)
    /// <summary>A tensor handed to the executor does not fit the graph input it is meant for (rank, shape or a missing input).</summary>
    public const string ExecutorInputMismatch = "DSG0501";
    /// <summary>A node failed while the executor ran it (the shapes or values in the model do not fit together).</summary>
    public const string NodeExecutionFailed = "DSG0502";
    /// <summary>The declared input shape is malformed or contradicts the model's own static input shape.</summary>
    public const string InputShapeConflict = "DSG0503";
    /// <summary>ONNX Runtime could not run the model to verify the executor against it.</summary>
    public const string VerificationFailed = "DSG0504";

    // 06xx: sample generation. (owner: Generation/)
    /// <summary>The model's first output is not a batch of class logits (N x K), which the class term needs.</summary>
    public const string OutputNotClassLogits = "DSG0601";
    /// <summary>The generation loss became NaN or infinite.</summary>
    public const string GenerationDiverged = "DSG0602";
    /// <summary>The generated samples could not be written to the output folder.</summary>
    public const string GenerationOutputUnwritable = "DSG0603";

    // 07xx: quantization, calibration data and evaluation. (owner: Quantization/, Evaluation/, Data/)
    /// <summary>A calibration or evaluation data file cannot be read or does not fit the model.</summary>
    public const string CalibrationDataUnreadable = "DSG0701";

    // 08xx: the tool: configuration, cache, cancellation. (owner: Dsg.Tool, Caching/)

    // 09xx: MSBuild integration (emitted by Dsg.Build.Tasks, listed here so docs/errors.md stays complete).
}
