using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using static Dsg.Core.Tests.Graph.OnnxGraphBuilder;

namespace Dsg.Core.Tests.Graph;

/// <summary>Small models built in memory, shaped like what PyTorch exports.</summary>
internal static class TestModels
{
    /// <summary>
    /// input [batch,1,8,8] → Conv(pad 1) → BN → Relu → MaxPool 2 → grouped Conv → BN → Clip(0,6 from Constant nodes)
    /// → GlobalAveragePool → Shape/Gather/Unsqueeze/Concat/Reshape flatten → Gemm(transB) → logits [batch,3].
    /// </summary>
    public static OnnxModel SmallCnn(TensorProto.Types.DataType floatType = TensorProto.Types.DataType.Float, int seed = 1)
    {
        var random = new Random(seed);
        var b = new OnnxGraphBuilder(13, floatType);
        b.Input("input", null, 1, 8, 8).Output("logits", null, 3);
        var conv1 = b.Node("Conv", ["input", b.RandomWeight("w1", random, 0.5, 4, 1, 3, 3), b.RandomWeight("b1", random, 0.1, 4)], null,
            Ints("pads", 1, 1, 1, 1), Ints("kernel_shape", 3, 3));
        var bn1 = b.Node("BatchNormalization", [conv1, Positive(b, "g1", random, 4), b.RandomWeight("beta1", random, 0.2, 4),
            b.RandomWeight("m1", random, 0.3, 4), Positive(b, "v1", random, 4)], null, Float("epsilon", 1e-5f));
        var relu = b.Node("Relu", [bn1]);
        var pool = b.Node("MaxPool", [relu], null, Ints("kernel_shape", 2, 2), Ints("strides", 2, 2));
        var conv2 = b.Node("Conv", [pool, b.RandomWeight("w2", random, 0.4, 6, 2, 3, 3)], null,
            Ints("pads", 1, 1, 1, 1), Int("group", 2));
        var bn2 = b.Node("BatchNormalization", [conv2, Positive(b, "g2", random, 6), b.RandomWeight("beta2", random, 0.2, 6),
            b.RandomWeight("m2", random, 0.3, 6), Positive(b, "v2", random, 6)], null, Float("epsilon", 1e-3f));
        var low = b.Node("Constant", [], ["clip_min"], Tensor("value", Scalar(floatType, "clip_min_value", 0)));
        var high = b.Node("Constant", [], ["clip_max"], Tensor("value", Scalar(floatType, "clip_max_value", 6)));
        var clip = b.Node("Clip", [bn2, low, high]);
        var gap = b.Node("GlobalAveragePool", [clip]);
        var shape = b.Node("Shape", [gap]);
        var batch = b.Node("Gather", [shape, b.Int64Scalar("zero", 0)], null, Int("axis", 0));
        var batch1 = b.Node("Unsqueeze", [batch, b.Int64s("axes0", 0)]);
        var target = b.Node("Concat", [batch1, b.Int64s("minus_one", -1)], null, Int("axis", 0));
        var flat = b.Node("Reshape", [gap, target]);
        b.Node("Gemm", [flat, b.RandomWeight("fc_w", random, 0.5, 3, 6), b.RandomWeight("fc_b", random, 0.1, 3)], ["logits"],
            Int("transB", 1));
        return b.Build();
    }

    /// <summary>
    /// A feature extractor without a classifier: input [batch,1,8,8] → Conv(pad 1) → BN → Relu → Conv(stride 2) → BN →
    /// Relu → GlobalAveragePool → features [batch,6,1,1] (an embedding, as ResNet's backbone exports).
    /// </summary>
    public static OnnxModel EmbeddingCnn(int seed = 1)
    {
        var random = new Random(seed);
        var b = new OnnxGraphBuilder(13);
        b.Input("input", null, 1, 8, 8).Output("features", null, 6, 1, 1);
        var conv1 = b.Node("Conv", ["input", b.RandomWeight("w1", random, 0.5, 4, 1, 3, 3), b.RandomWeight("b1", random, 0.1, 4)], null,
            Ints("pads", 1, 1, 1, 1), Ints("kernel_shape", 3, 3));
        var bn1 = b.Node("BatchNormalization", [conv1, Positive(b, "g1", random, 4), b.RandomWeight("beta1", random, 0.2, 4),
            b.RandomWeight("m1", random, 0.3, 4), Positive(b, "v1", random, 4)], null, Float("epsilon", 1e-5f));
        var relu1 = b.Node("Relu", [bn1]);
        var conv2 = b.Node("Conv", [relu1, b.RandomWeight("w2", random, 0.4, 6, 4, 3, 3)], null,
            Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2), Ints("kernel_shape", 3, 3));
        var bn2 = b.Node("BatchNormalization", [conv2, Positive(b, "g2", random, 6), b.RandomWeight("beta2", random, 0.2, 6),
            b.RandomWeight("m2", random, 0.3, 6), Positive(b, "v2", random, 6)], null, Float("epsilon", 1e-5f));
        var relu2 = b.Node("Relu", [bn2]);
        b.Node("GlobalAveragePool", [relu2], ["features"]);
        return b.Build();
    }

    private static string Positive(OnnxGraphBuilder b, string name, Random random, long count) =>
        b.Weight(name, Enumerable.Range(0, (int)count).Select(_ => 0.5 + random.NextDouble()).ToArray(), count);

    private static TensorProto Scalar(TensorProto.Types.DataType type, string name, double value) =>
        type == TensorProto.Types.DataType.Double
            ? OnnxTensor.FromRaw(name, type, BitConverter.GetBytes(value))
            : OnnxTensor.FromFloats(name, [(float)value]);

    /// <summary>A copy of a float32 model with every float initializer, Constant and graph value made float64.</summary>
    public static OnnxModel ToDouble(OnnxModel model)
    {
        var proto = model.Proto.Clone();
        foreach (var value in proto.Graph.Input.Concat(proto.Graph.Output).Concat(proto.Graph.ValueInfo))
        {
            if (value.Type?.TensorType is { ElemType: (int)TensorProto.Types.DataType.Float } t)
            {
                t.ElemType = (int)TensorProto.Types.DataType.Double;
            }
        }

        foreach (var tensor in OnnxModel.EnumerateTensors(proto.Graph).ToList())
        {
            if (tensor.DataType == (int)TensorProto.Types.DataType.Float)
            {
                var values = OnnxTensor.ToFloats(tensor, model).Select(v => (double)v).ToArray();
                tensor.ClearRawData();
                tensor.FloatData.Clear();
                tensor.DataType = (int)TensorProto.Types.DataType.Double;
                tensor.DoubleData.Clear();
                tensor.DoubleData.AddRange(values);
            }
        }

        return OnnxModel.FromProto(proto, model.Directory, model.DisplayName);
    }
}
