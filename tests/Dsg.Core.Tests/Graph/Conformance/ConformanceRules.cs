using Dsg.Core.Graph;
using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Tests.Graph.Conformance;

/// <summary>
/// Why a node test case is out of scope. A rule with <see cref="ExpectedCode"/> still runs the case and
/// requires the executor to refuse it with that code (the refusal is the behaviour under test).
/// </summary>
internal sealed record SkipRule(string Reason, Func<NodeTestCase, bool> Applies, string? ExpectedCode = null);

/// <summary>The out-of-scope rules, in the order they are checked.</summary>
internal static class ConformanceRules
{
    private static readonly HashSet<TensorProto.Types.DataType> s_heldTypes =
    [
        TensorProto.Types.DataType.Float, TensorProto.Types.DataType.Double, TensorProto.Types.DataType.Float16,
        TensorProto.Types.DataType.Int64, TensorProto.Types.DataType.Int32, TensorProto.Types.DataType.Int16,
        TensorProto.Types.DataType.Int8, TensorProto.Types.DataType.Uint8, TensorProto.Types.DataType.Bool,
    ];

    public static IReadOnlyList<SkipRule> All { get; } =
    [
        new("uses a sequence, map or optional value (the executor handles tensors only)",
            c => AllValues(c).Any(v => v.Type?.TensorType is null)),
        new("uses an element type other than float, double, float16, int8/16/32/64, uint8 or bool (no TorchSharp counterpart, or out of scope for image models)",
            c => AllValues(c).Any(v => v.Type?.TensorType is { } t && !s_heldTypes.Contains((TensorProto.Types.DataType)t.ElemType))),
        new("training-mode BatchNormalization (batch statistics); refused by design",
            c => c.Model.Graph.Node.Any(n => n.OpType == "BatchNormalization" && n.Attribute.Any(a => a.Name == "training_mode" && a.I != 0)),
            ErrorCodes.UnsupportedNode),
        new("training-mode Dropout with a non-zero ratio is random; refused at run time by design",
            c => c.Name.StartsWith("test_training_dropout", StringComparison.Ordinal) && !c.Name.Contains("zero_ratio", StringComparison.Ordinal),
            ErrorCodes.NodeExecutionFailed),
    ];

    /// <summary>The first rule that applies, or null when the case is in scope.</summary>
    public static SkipRule? Find(NodeTestCase testCase) => All.FirstOrDefault(r => r.Applies(testCase));

    /// <summary>Whether every op of the case is supported by the executor.</summary>
    public static bool IsSupported(NodeTestCase testCase) =>
        testCase.Model.Graph.Node.All(n => OperatorSupport.IsSupported(n.OpType, n.Domain));

    private static IEnumerable<ValueInfoProto> AllValues(NodeTestCase c) => c.Model.Graph.Input.Concat(c.Model.Graph.Output);
}
