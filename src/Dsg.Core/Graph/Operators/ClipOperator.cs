using Dsg.Core.Graph.Execution;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Operators;

/// <summary>
/// Clip: bounds from attributes (opset &lt; 11) or from optional inputs (opset ≥ 11), read once at load when
/// they are constant (initializers, Constant nodes) and at run time otherwise.
/// </summary>
internal sealed class ClipOperator : IOperator
{
    public string OpType => "Clip";

    public OperatorKernel Build(NodeContext node)
    {
        if (node.Opset < 11)
        {
            double? min = node.HasAttribute("min") ? node.Float("min", 0) : null;
            double? max = node.HasAttribute("max") ? node.Float("max", 0) : null;
            return new ClipKernel(min, max, false, false);
        }

        double? constantMin = node.ConstantDoubles(1)?.Single();
        double? constantMax = node.ConstantDoubles(2)?.Single();
        bool runtimeMin = node.HasInput(1) && constantMin is null;
        bool runtimeMax = node.HasInput(2) && constantMax is null;
        return new ClipKernel(constantMin, constantMax, runtimeMin, runtimeMax);
    }

    private sealed class ClipKernel(double? min, double? max, bool runtimeMin, bool runtimeMax) : SingleOutputKernel
    {
        protected override Tensor Compute(ReadOnlySpan<Tensor?> inputs)
        {
            var x = inputs[0]!;
            double? low = runtimeMin ? TensorValues.ToDoubles(inputs[1]!)[0] : min;
            double? high = runtimeMax ? TensorValues.ToDoubles(inputs[2]!)[0] : max;
            bool floating = TensorValues.IsFloating(x.dtype);
            if (low is null && high is null)
            {
                return x.alias();
            }

            return x.clamp(ToScalar(low, floating), ToScalar(high, floating));
        }

        private static Scalar? ToScalar(double? value, bool floating) =>
            value is not double v ? null : floating ? v.ToScalar() : ((long)v).ToScalar();
    }
}
