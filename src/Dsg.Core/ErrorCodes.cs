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
    /// <summary>An external-data location names a folder, a FIFO, a device or a socket, not a regular file.</summary>
    public const string ExternalDataNotAFile = "DSG0107";
    /// <summary>A tensor's dimensions multiply past 64 bits, or it holds more bytes than Dsg reads in one piece.</summary>
    public const string TensorTooLarge = "DSG0108";
    /// <summary>A model input (or the --input-shape given) declares more values than the input-size limit.</summary>
    public const string InputTooLarge = "DSG0109";
    /// <summary>The graph has more nodes than the node limit.</summary>
    public const string TooManyNodes = "DSG0110";
    /// <summary>The model's tensors hold more bytes than the model-size limit.</summary>
    public const string ModelTooLarge = "DSG0111";

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
    /// <summary>The model's opset is below 13 and an operator in it has no conversion to opset 13.</summary>
    public const string OpsetNotUpgradable = "DSG0206";

    // 03xx: options.
    /// <summary>An option has a bad value.</summary>
    public const string BadOption = "DSG0301";
    /// <summary>The configuration file has an unknown key or cannot be parsed.</summary>
    public const string BadConfiguration = "DSG0302";
    /// <summary>CUDA was requested and TorchSharp reports no CUDA runtime.</summary>
    public const string CudaUnavailable = "DSG0303";
    /// <summary>The command line cannot be parsed: an unknown option, a missing argument or a stray token.</summary>
    public const string CommandLineUsage = "DSG0304";

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
    /// <summary>--output-kind logits or probabilities was given, but the model's first output is not one vector of K ≥ 2 class scores per sample.</summary>
    public const string OutputNotClassScores = "DSG0601";
    /// <summary>The generation loss became NaN or infinite.</summary>
    public const string GenerationDiverged = "DSG0602";
    /// <summary>The generated samples could not be written to the output folder.</summary>
    public const string GenerationOutputUnwritable = "DSG0603";
    /// <summary>A warning: the class term is off because the model's first output is not class scores (an embedding or a dense map).</summary>
    public const string ClassTermOff = "DSG0604";

    // 07xx: quantization, calibration data and evaluation. (owner: Quantization/, Evaluation/, Data/)
    /// <summary>A calibration or evaluation data file cannot be read or does not fit the model.</summary>
    public const string CalibrationDataUnreadable = "DSG0701";
    /// <summary>Calibration or evaluation samples do not have the shape the model's input needs.</summary>
    public const string CalibrationDataShapeMismatch = "DSG0702";
    /// <summary>A labels file cannot be read or does not match the samples.</summary>
    public const string LabelsUnreadable = "DSG0703";
    /// <summary>The calibration or evaluation data holds no samples (or fewer than needed).</summary>
    public const string CalibrationDataEmpty = "DSG0704";
    /// <summary>The fp32 model produced NaN or infinity on the calibration samples.</summary>
    public const string CalibrationNotFinite = "DSG0705";
    /// <summary>The model's opset is below 13, which per-channel QuantizeLinear/DequantizeLinear need.</summary>
    public const string OpsetTooOldForQuantization = "DSG0706";
    /// <summary>The model has no Conv, ConvTranspose, Gemm or MatMul with constant weights to quantize.</summary>
    public const string NothingToQuantize = "DSG0707";
    /// <summary>Two models compared by eval do not have the same inputs and outputs.</summary>
    public const string ModelsDoNotMatch = "DSG0708";
    /// <summary>ONNX Runtime refused to load or run a model.</summary>
    public const string OnnxRuntimeFailed = "DSG0709";
    /// <summary>Image data (IDX or a folder of images) was given without its preprocessing.</summary>
    public const string PreprocessingRequired = "DSG0710";
    /// <summary>An image in a folder cannot be decoded.</summary>
    public const string ImageUnreadable = "DSG0711";
    /// <summary>A warning: the quantized model given to eval records that it was quantized from another fp32 model.</summary>
    public const string NotQuantizedFromReference = "DSG0712";
    /// <summary>Refinement (AdaRound) met a reconstruction error that is not finite.</summary>
    public const string RefinementNotFinite = "DSG0713";

    /// <summary>Block reconstruction (BRECQ) cannot cut the graph into blocks (it needs exactly one graph input).</summary>
    public const string RefinementUnsupported = "DSG0714";
    /// <summary>The quantized model's agreement with fp32 on held-out samples (top-1 for class scores, cosine similarity otherwise) is below --min-agreement.</summary>
    public const string AgreementBelowMinimum = "DSG0720";

    // 08xx: the tool: configuration, cache, cancellation. (owner: Dsg.Tool, Caching/)
    /// <summary>The cache folder cannot be created or written.</summary>
    public const string CacheUnwritable = "DSG0801";
    /// <summary>Another process held the cache entry's lock for longer than the lock timeout.</summary>
    public const string CacheLockTimeout = "DSG0802";
    /// <summary>A cache entry's files do not match its manifest; the entry is dropped and rebuilt (a warning).</summary>
    public const string CacheEntryCorrupt = "DSG0803";
    /// <summary>The output file or folder cannot be written.</summary>
    public const string OutputUnwritable = "DSG0804";
    /// <summary>The run was cancelled (Ctrl+C or SIGTERM); nothing was written.</summary>
    public const string Cancelled = "DSG0805";
    /// <summary>The scratch file that holds large sample sets during a run cannot be created or written (a full TMPDIR).</summary>
    public const string ScratchUnwritable = "DSG0806";

    // 081x: the remote cache. (owner: Caching/RemoteCache, Dsg.Tool cache verbs) Warnings in a build, which goes on
    // with the local cache only; errors only in the cache verbs that exist to talk to the remote.
    /// <summary>The remote cache cannot be reached, timed out or answered with a server error after every retry (a warning in a build).</summary>
    public const string RemoteCacheUnavailable = "DSG0810";
    /// <summary>An entry downloaded from the remote cache is truncated or does not match its recorded hashes; it is discarded and produced locally (a warning).</summary>
    public const string RemoteCacheEntryCorrupt = "DSG0811";
    /// <summary>The remote cache refused the credentials (401 or 403), or asked for some when none were sent (a warning in a build).</summary>
    public const string RemoteCacheUnauthorized = "DSG0812";
    /// <summary>The environment variable named by --remote-cache-auth-variable is not set or empty; requests go without an Authorization header (a warning).</summary>
    public const string RemoteCacheAuthVariableMissing = "DSG0813";
    /// <summary>An entry could not be uploaded: the remote refused the PUT or MOVE (not a WebDAV server, read-only, full), or packing it failed (a warning in a build).</summary>
    public const string RemoteCacheUploadFailed = "DSG0814";
    /// <summary>A cache verb that talks to the remote cache runs without --remote-cache, or cache push runs with --remote-cache-mode read.</summary>
    public const string RemoteCacheNotConfigured = "DSG0815";
    /// <summary>cache push or pull did not complete: a key is in neither cache, a prefix is ambiguous, or an entry failed to transfer.</summary>
    public const string RemoteCacheTransferIncomplete = "DSG0816";
    /// <summary>The remote cache does not answer WebDAV PROPFIND, which cache list --remote and cache pull --all need.</summary>
    public const string RemoteCacheListingUnsupported = "DSG0817";

    // 09xx: MSBuild integration (emitted by Dsg.Build.Tasks, listed here so docs/errors.md stays complete; the tool
    // itself emits InvalidMetadata for values passed as --msbuild-metadata).
    /// <summary>A DsgQuantize item names a model file that does not exist.</summary>
    public const string ModelFileMissing = "DSG0901";
    /// <summary>A DsgQuantize metadata value is not one the tool accepts.</summary>
    public const string InvalidMetadata = "DSG0902";
    /// <summary>The Dsg tool cannot be started (not installed, or DsgToolPath points nowhere).</summary>
    public const string ToolNotFound = "DSG0903";
    /// <summary>The Dsg tool's version is outside the range the Dsg.Build package supports.</summary>
    public const string ToolVersionOutOfRange = "DSG0904";
    /// <summary>The tool failed without reporting a Dsg error (crash, cancellation or unreadable output).</summary>
    public const string ToolFailed = "DSG0905";
    /// <summary>The tool reported success but the quantized model is not where it was asked to write it.</summary>
    public const string ToolOutputMissing = "DSG0906";
    /// <summary>Two DsgQuantize items would write the same output file.</summary>
    public const string DuplicateOutput = "DSG0907";
    /// <summary>A warning: a DsgQuantize metadata name is not a setting (a typo such as Precison); the nearest name is suggested.</summary>
    public const string UnknownMetadata = "DSG0908";
}
