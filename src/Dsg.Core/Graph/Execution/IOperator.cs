namespace Dsg.Core.Graph.Execution;

/// <summary>
/// One ONNX operator type: it validates a node's attributes (throwing DSG0205 for forms it does not support)
/// and builds the node's kernel.
/// </summary>
internal interface IOperator
{
    /// <summary>The ONNX op type (default domain).</summary>
    string OpType { get; }

    /// <summary>Builds the kernel of one node.</summary>
    OperatorKernel Build(NodeContext node);
}

/// <summary>An operator defined by a build function.</summary>
internal sealed class Operator(string opType, Func<NodeContext, OperatorKernel> build) : IOperator
{
    public string OpType { get; } = opType;

    public OperatorKernel Build(NodeContext node) => build(node);
}
