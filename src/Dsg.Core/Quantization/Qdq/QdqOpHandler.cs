using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Quantization.Qdq;

/// <summary>Knows, for one kind of operator, which of its tensors get quantized and how.</summary>
internal interface IQdqOpHandler
{
    /// <summary>Whether the node carries a constant weight (counts for the first/last-layer policy).</summary>
    bool HasWeights(NodeProto node, QdqPlanBuilder plan);

    /// <summary>Records the node's activation, weight and bias sites.</summary>
    void Plan(NodeProto node, QdqPlanBuilder plan);
}
