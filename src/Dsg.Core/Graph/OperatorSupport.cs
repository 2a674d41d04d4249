namespace Dsg.Core.Graph;

/// <summary>The ONNX operators (default domain) the TorchSharp executor implements.</summary>
public static class OperatorSupport
{
    private static readonly HashSet<string> s_supported = new(StringComparer.Ordinal)
    {
        "Conv", "ConvTranspose", "BatchNormalization", "Relu", "Clip", "LeakyRelu", "PRelu", "Sigmoid",
        "HardSigmoid", "HardSwish", "Tanh", "Add", "Sub", "Mul", "Div", "MaxPool", "AveragePool",
        "GlobalAveragePool", "GlobalMaxPool", "Flatten", "Reshape", "Gemm", "MatMul", "Concat", "Softmax",
        "Transpose", "Identity", "Dropout", "Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "Slice",
        "Pad", "ReduceMean", "Split", "Resize",
    };

    /// <summary>Every supported op type, sorted.</summary>
    public static IReadOnlyList<string> Supported { get; } = s_supported.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Whether a node of this type and domain can be executed.</summary>
    public static bool IsSupported(string opType, string? domain) =>
        (string.IsNullOrEmpty(domain) || domain == "ai.onnx") && s_supported.Contains(opType);
}
