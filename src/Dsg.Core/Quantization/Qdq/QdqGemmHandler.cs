using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Quantization.Qdq;

/// <summary>
/// Gemm with a constant B: input A gets Q/DQ, B is quantized per output column (axis 0 when transB = 1, else 1),
/// C becomes int32 when alpha = beta = 1 and A is not transposed; the output gets Q/DQ unless it is a graph output.
/// </summary>
internal sealed class QdqGemmHandler : IQdqOpHandler
{
    public bool HasWeights(NodeProto node, QdqPlanBuilder plan) =>
        node.Input.Count >= 2 && plan.Index.IsInitializer(node.Input[1]) && QdqPlanBuilder.IntAttribute(node, "transA", 0) == 0
        && plan.Index.Initializers[node.Input[1]].Dims.Count == 2;

    public void Plan(NodeProto node, QdqPlanBuilder plan)
    {
        if (!HasWeights(node, plan))
        {
            return;
        }

        var (weightBits, inputBits) = plan.LayerBits(node);
        bool input = plan.ActivationInput(node, 0, inputBits);
        bool transB = QdqPlanBuilder.IntAttribute(node, "transB", 0) != 0;
        plan.Weight(node, 1, transB ? 0 : 1, weightBits);
        bool unitScales = QdqPlanBuilder.FloatAttribute(node, "alpha", 1f) == 1f && QdqPlanBuilder.FloatAttribute(node, "beta", 1f) == 1f;
        if (input && unitScales && node.Input.Count > 2 && node.Input[2].Length > 0 && plan.Index.IsInitializer(node.Input[2])
            && plan.Index.Initializers[node.Input[2]].Dims.Count == 1)
        {
            plan.Bias(node, 2, 1);
        }

        plan.Output(node, plan.Options.ActivationBits);
    }
}
