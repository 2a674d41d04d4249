using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Quantization.Qdq;

/// <summary>Maps an operator type (default ONNX domain) to the handler that quantizes it; other operators stay float.</summary>
internal static class QdqHandlerRegistry
{
    private static readonly QdqConvHandler s_conv = new();
    private static readonly QdqGemmHandler s_gemm = new();
    private static readonly QdqMatMulHandler s_matMul = new();
    private static readonly QdqAddHandler s_add = new();
    private static readonly QdqPoolHandler s_pool = new();

    private static readonly Dictionary<string, IQdqOpHandler> s_handlers = new(StringComparer.Ordinal)
    {
        ["Conv"] = s_conv,
        ["ConvTranspose"] = s_conv,
        ["Gemm"] = s_gemm,
        ["MatMul"] = s_matMul,
        ["Add"] = s_add,
        ["AveragePool"] = s_pool,
        ["GlobalAveragePool"] = s_pool,
    };

    /// <summary>The operator types that have a handler.</summary>
    public static IReadOnlyCollection<string> OpTypes => s_handlers.Keys;

    /// <summary>The handler for a node, or null when the node stays float.</summary>
    public static IQdqOpHandler? For(NodeProto node) =>
        OnnxDomain.IsDefault(node.Domain) && s_handlers.TryGetValue(node.OpType, out var handler) ? handler : null;
}
