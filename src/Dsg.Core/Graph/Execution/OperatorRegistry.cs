using Dsg.Core.Graph.Operators;
using Dsg.Core.Onnx;

namespace Dsg.Core.Graph.Execution;

/// <summary>Maps ONNX op types (default domain) to the operators that build their kernels. The single source of truth for what is supported.</summary>
internal static class OperatorRegistry
{
    private static readonly Dictionary<string, IOperator> s_operators = Create();

    /// <summary>Every registered op type.</summary>
    public static IEnumerable<string> OpTypes => s_operators.Keys;

    /// <summary>The operator of a node, or null when the type or domain is not supported.</summary>
    public static IOperator? Find(string opType, string? domain) =>
        OnnxDomain.IsDefault(domain) && s_operators.TryGetValue(opType, out var op) ? op : null;

    private static Dictionary<string, IOperator> Create()
    {
        IEnumerable<IOperator> operators =
        [
            new ConvOperator(),
            new ConvTransposeOperator(),
            new BatchNormalizationOperator(),
            new ClipOperator(),
            new PReluOperator(),
            new MaxPoolOperator(),
            new AveragePoolOperator(),
            new GemmOperator(),
            new PadOperator(),
            new DropoutOperator(),
            new ResizeOperator("Resize"),
            new ResizeOperator("Upsample"),
            .. ElementwiseOperators.All(),
            .. BinaryOperators.All(),
            .. GlobalPoolOperators.All(),
            .. MatrixOperators.All(),
            .. ShapeOperators.All(),
            .. ReshapeOperators.All(),
            .. IndexingOperators.All(),
            .. ReduceOperators.All(),
            .. ConstantOperators.All(),
            .. NormalizationOperators.All(),
            .. MiscellaneousOperators.All(),
        ];
        var map = new Dictionary<string, IOperator>(StringComparer.Ordinal);
        foreach (var op in operators)
        {
            if (!map.TryAdd(op.OpType, op))
            {
                throw new InvalidOperationException($"Operator {op.OpType} is registered twice.");
            }
        }

        return map;
    }
}
