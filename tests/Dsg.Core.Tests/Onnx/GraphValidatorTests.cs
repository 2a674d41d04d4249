using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using Dsg.Tests.Shared;
using Google.Protobuf;

namespace Dsg.Core.Tests.Onnx;

/// <summary>
/// Models that used to crash the tool with an internal error (issue 14, item 5) are refused when they load, with a
/// DSG code that names the tensor or node.
/// </summary>
public sealed class GraphValidatorTests
{
    [Fact]
    public void Every_shipped_test_model_passes()
    {
        var models = Directory.EnumerateFiles(Path.Combine(RepoPaths.TestAssets, "models"), "*.onnx", SearchOption.AllDirectories).ToList();
        Assert.True(models.Count >= 20, $"only {models.Count} models found");
        foreach (var path in models)
        {
            OnnxModel.Load(path);
        }
    }

    [Fact]
    public void A_graph_without_outputs_is_DSG0106()
    {
        var proto = Conv();
        proto.Graph.Output.Clear();

        var e = Refused(proto, ErrorCodes.MalformedModel);

        Assert.Contains("no outputs", e.Message);
    }

    [Fact]
    public void A_negative_weight_dimension_is_DSG0106_naming_the_tensor()
    {
        var proto = Conv();
        proto.Graph.Initializer[0].Dims[1] = -1;

        var e = Refused(proto, ErrorCodes.MalformedModel);

        Assert.Contains("'w'", e.Message);
        Assert.Contains("negative", e.Message);
    }

    [Fact]
    public void Dimensions_whose_product_overflows_are_DSG0108_naming_the_tensor()
    {
        var proto = Conv();
        var w = proto.Graph.Initializer[0];
        w.Dims.Clear();
        w.Dims.Add([1L << 32, 1L << 32, 1, 1]);

        var e = Refused(proto, ErrorCodes.TensorTooLarge);

        Assert.Contains("'w'", e.Message);
    }

    [Fact]
    public void An_input_declared_with_an_overflowing_or_negative_shape_is_refused()
    {
        var proto = Conv();
        var dims = proto.Graph.Input[0].Type.TensorType.Shape.Dim;
        dims[2].DimValue = 1L << 40;
        dims[3].DimValue = 1L << 40;
        Assert.Contains("'x'", Refused(proto, ErrorCodes.TensorTooLarge).Message);

        dims[2].DimValue = -3;
        Assert.Contains("'x'", Refused(proto, ErrorCodes.MalformedModel).Message);
    }

    [Fact]
    public void Raw_data_shorter_than_the_dimensions_need_is_DSG0106()
    {
        var proto = Conv();
        var w = proto.Graph.Initializer[0];
        w.RawData = ByteString.CopyFrom(w.RawData.Span[..8]);

        var e = Refused(proto, ErrorCodes.MalformedModel);

        Assert.Contains("'w'", e.Message);
        Assert.Contains("8 bytes", e.Message);
    }

    [Fact]
    public void An_input_nothing_defines_is_DSG0106_naming_the_node()
    {
        var proto = Conv();
        proto.Graph.Node[1].Input[0] = "ghost";

        var e = Refused(proto, ErrorCodes.MalformedModel);

        Assert.Contains("'ghost'", e.Message);
        Assert.Contains("'relu'", e.Message);
    }

    [Fact]
    public void A_cycle_is_DSG0106()
    {
        var proto = Conv();
        proto.Graph.Node[0].Input[0] = "y";

        var e = Refused(proto, ErrorCodes.MalformedModel);

        Assert.Contains("cycle", e.Message);
    }

    [Fact]
    public void Nodes_out_of_order_are_fine()
    {
        var proto = Conv();
        var first = proto.Graph.Node[0];
        proto.Graph.Node.RemoveAt(0);
        proto.Graph.Node.Add(first);

        GraphValidator.Validate(OnnxModel.FromBytes(proto.ToByteArray(), null, "reordered"));
    }

    private static DsgException Refused(ModelProto proto, string code)
    {
        var e = Assert.Throws<DsgException>(() => OnnxModel.FromBytes(proto.ToByteArray(), null, "crafted.onnx"));
        Assert.Equal(code, e.Code);
        return e;
    }

    /// <summary>x[1,2,4,4] → Conv(w[3,2,1,1]) → Relu → y.</summary>
    internal static ModelProto Conv()
    {
        var graph = new GraphProto { Name = "g" };
        graph.Node.Add(new NodeProto { OpType = "Conv", Name = "conv", Input = { "x", "w" }, Output = { "c" } });
        graph.Node.Add(new NodeProto { OpType = "Relu", Name = "relu", Input = { "c" }, Output = { "y" } });
        graph.Initializer.Add(OnnxTensor.FromFloats("w", new float[6], 3, 2, 1, 1));
        graph.Input.Add(Value("x", 1, 2, 4, 4));
        graph.Output.Add(Value("y", 1, 3, 4, 4));
        var proto = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "test" };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return proto;
    }

    private static ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(dims.Select(d => new TensorShapeProto.Types.Dimension { DimValue = d }));
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
