namespace Dsg.Core.Inspection;

/// <summary>What <c>dotnet dsg inspect</c> reports about a model.</summary>
public sealed record ModelReport(
    string Path,
    long IrVersion,
    long Opset,
    string Producer,
    IReadOnlyList<TensorInfo> Inputs,
    IReadOnlyList<TensorInfo> Outputs,
    long ParameterCount,
    IReadOnlyDictionary<string, int> OpHistogram,
    int BatchNormCount,
    IReadOnlyList<UnsupportedNode> UnsupportedNodes,
    IReadOnlyList<Problem> Problems)
{
    /// <summary>The opset the quantized model will have: the file's, raised to 13 when it is older.</summary>
    public long QuantizedOpset { get; init; }

    /// <summary>What importing the model rewrites (opset upgrade, Constant weights lifted); empty when nothing.</summary>
    public IReadOnlyList<string> Import { get; init; } = [];

    /// <summary>Whether DSG can run on the model: no problems were found.</summary>
    public bool DsgReady => Problems.Count == 0;
}

/// <summary>A graph input or output: element type and dimensions (numbers, or symbolic names such as <c>batch</c>).</summary>
public sealed record TensorInfo(string Name, string ElementType, IReadOnlyList<string> Shape);

/// <summary>A node the executor cannot run.</summary>
public sealed record UnsupportedNode(string OpType, string Domain, string NodeName);

/// <summary>A reason DSG cannot run, with its stable code and the next step.</summary>
public sealed record Problem(string Code, string Message, string Hint)
{
    /// <summary>What the problem stops: every run (the default), runs that build the executor, or runs that need BatchNorm statistics.</summary>
    public ProblemScope Scope { get; init; }

    /// <summary>The exception a pipeline throws for this problem.</summary>
    public DsgException ToException(string? file) => new(Code, Message, Hint) { FilePath = file };
}

/// <summary>Which runs a <see cref="Problem"/> stops.</summary>
public enum ProblemScope
{
    /// <summary>Every quantize: the model cannot be read, imported, fed or run in ONNX Runtime as it is.</summary>
    Everything,

    /// <summary>Runs that build the TorchSharp executor (every generator, gaussian included).</summary>
    Executor,

    /// <summary>Runs that match BatchNorm statistics (dsg and zeroq).</summary>
    BatchNormStatistics,
}
