using Dsg.Core.Graph.Execution;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Operators;

/// <summary>PRelu with a slope broadcast numpy-style against the input: y = x &lt; 0 ? slope * x : x.</summary>
internal sealed class PReluOperator : IOperator
{
    public string OpType => "PRelu";

    public OperatorKernel Build(NodeContext node) => new BinaryKernel(static (x, slope) =>
    {
        using var negative = x.LessThan(0);
        using var scaled = x.mul(slope);
        return where(negative, scaled, x);
    });
}
