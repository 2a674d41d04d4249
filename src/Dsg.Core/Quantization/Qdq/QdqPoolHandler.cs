using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Quantization.Qdq;

/// <summary>
/// AveragePool and GlobalAveragePool: the input gets Q/DQ; the output stays float until a consumer quantizes it,
/// so the pooled features reach the last layer at that layer's width.
/// </summary>
internal sealed class QdqPoolHandler : IQdqOpHandler
{
    public bool HasWeights(NodeProto node, QdqPlanBuilder plan) => false;

    public void Plan(NodeProto node, QdqPlanBuilder plan) => plan.ActivationInput(node, 0, plan.Options.ActivationBits);
}
