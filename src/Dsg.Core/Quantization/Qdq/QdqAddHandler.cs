using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Quantization.Qdq;

/// <summary>Add of two activations (residual joins): both inputs and the output get Q/DQ, as ONNX Runtime's QLinearAdd needs.</summary>
internal sealed class QdqAddHandler : IQdqOpHandler
{
    public bool HasWeights(NodeProto node, QdqPlanBuilder plan) => false;

    public void Plan(NodeProto node, QdqPlanBuilder plan)
    {
        if (node.Input.Count != 2 || node.Input.Any(i => plan.Index.IsInitializer(i) || plan.IsConstant(i)))
        {
            return;
        }

        plan.ActivationInput(node, 0, plan.Options.ActivationBits);
        plan.ActivationInput(node, 1, plan.Options.ActivationBits);
        plan.Output(node, plan.Options.ActivationBits);
    }
}
