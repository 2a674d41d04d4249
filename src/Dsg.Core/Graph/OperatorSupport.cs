using Dsg.Core.Graph.Execution;

namespace Dsg.Core.Graph;

/// <summary>The ONNX operators (default domain) the TorchSharp executor implements, read from its operator registry.</summary>
public static class OperatorSupport
{
    /// <summary>Every supported op type, sorted.</summary>
    public static IReadOnlyList<string> Supported { get; } = OperatorRegistry.OpTypes.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Whether a node of this type and domain can be executed.</summary>
    public static bool IsSupported(string opType, string? domain) => OperatorRegistry.Find(opType, domain) is not null;
}
