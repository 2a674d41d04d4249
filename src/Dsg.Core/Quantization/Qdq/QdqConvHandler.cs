using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Quantization.Qdq;

/// <summary>
/// Conv and ConvTranspose: the data input and the (post-activation) output get Q/DQ, the weight is quantized per
/// output channel (axis 0 for Conv, axis 1 for ConvTranspose) and the bias becomes int32.
/// </summary>
internal sealed class QdqConvHandler : IQdqOpHandler
{
    public bool HasWeights(NodeProto node, QdqPlanBuilder plan) => node.Input.Count >= 2 && plan.Index.IsInitializer(node.Input[1]);

    public void Plan(NodeProto node, QdqPlanBuilder plan)
    {
        if (!HasWeights(node, plan))
        {
            return;
        }

        bool transpose = node.OpType == "ConvTranspose";
        long group = QdqPlanBuilder.IntAttribute(node, "group", 1);
        var (weightBits, inputBits) = plan.LayerBits(node);
        bool input = plan.ActivationInput(node, 0, inputBits);
        plan.Weight(node, 1, transpose ? 1 : 0, weightBits);
        if (input && node.Input.Count > 2 && node.Input[2].Length > 0 && plan.Index.IsInitializer(node.Input[2]) && !(transpose && group != 1))
        {
            plan.Bias(node, 2, 1);
        }

        plan.Output(node, plan.Options.ActivationBits);
    }
}
