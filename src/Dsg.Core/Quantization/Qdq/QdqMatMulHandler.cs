using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Quantization.Qdq;

/// <summary>MatMul with a constant 2-D B: input A and the output get Q/DQ, B is quantized per output column (axis 1).</summary>
internal sealed class QdqMatMulHandler : IQdqOpHandler
{
    public bool HasWeights(NodeProto node, QdqPlanBuilder plan) =>
        node.Input.Count == 2 && plan.Index.IsInitializer(node.Input[1]) && plan.Index.Initializers[node.Input[1]].Dims.Count == 2;

    public void Plan(NodeProto node, QdqPlanBuilder plan)
    {
        if (!HasWeights(node, plan))
        {
            return;
        }

        var (weightBits, inputBits) = plan.LayerBits(node);
        plan.ActivationInput(node, 0, inputBits);
        plan.Weight(node, 1, 1, weightBits);
        plan.Output(node, plan.Options.ActivationBits);
    }
}
