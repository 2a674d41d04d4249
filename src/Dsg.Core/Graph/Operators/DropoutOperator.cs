using Dsg.Core.Graph.Execution;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Operators;

/// <summary>
/// Dropout in inference form: the output is the input and the optional mask is all true. A training_mode input
/// that is true is refused (DSG0205 at load when constant, at run time otherwise) unless the ratio is 0, where
/// training-mode dropout is also the identity.
/// </summary>
internal sealed class DropoutOperator : IOperator
{
    public string OpType => "Dropout";

    public OperatorKernel Build(NodeContext node)
    {
        if (node.Opset < 7 && node.Int("is_test", 0) == 0 && node.HasAttribute("is_test"))
        {
            throw node.Unsupported("is_test=0 (training dropout) is not supported.");
        }

        double? constantRatio = node.Opset >= 12 ? node.ConstantDoubles(1)?.Single() ?? (node.HasInput(1) ? null : 0.5) : node.Float("ratio", 0.5f);
        var constantTraining = node.ConstantDoubles(2);
        bool training = constantTraining is { Length: > 0 } && constantTraining[0] != 0;
        if (training && constantRatio is not 0.0)
        {
            throw node.Unsupported("training_mode=true makes dropout random; export the model in eval mode.");
        }

        bool runtimeTraining = node.HasInput(2) && constantTraining is null;
        bool boolMask = node.Opset >= 10;
        return new DropoutKernel(runtimeTraining, boolMask);
    }

    private sealed class DropoutKernel(bool runtimeTraining, bool boolMask) : OperatorKernel
    {
        public override void Run(ReadOnlySpan<Tensor?> inputs, Span<Tensor?> outputs)
        {
            var x = inputs[0]!;
            if (runtimeTraining && TensorValues.ToDoubles(inputs[2]!)[0] != 0
                && (inputs[1] is null || TensorValues.ToDoubles(inputs[1]!)[0] != 0))
            {
                throw new InvalidOperationException("training_mode is true with a non-zero ratio: dropout would be random, which the executor does not support.");
            }

            outputs[0] = x.alias();
            if (outputs.Length > 1)
            {
                outputs[1] = boolMask ? torch.ones_like(x, ScalarType.Bool) : torch.ones_like(x);
            }
        }
    }
}
