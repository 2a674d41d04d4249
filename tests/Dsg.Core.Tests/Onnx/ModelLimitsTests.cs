using Dsg.Core.Inspection;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using Dsg.Tests.Shared;
using Google.Protobuf;

namespace Dsg.Core.Tests.Onnx;

/// <summary>
/// Issue 14, item 7: declared sizes are bounded. A model past a limit is refused when it loads, before any work,
/// with a code that names the limit and the setting that raises it; the defaults take real ImageNet-size models.
/// </summary>
public sealed class ModelLimitsTests
{
    [Fact]
    public void An_input_declaring_65536_by_65536_pixels_is_DSG0109_naming_the_setting()
    {
        var proto = GraphValidatorTests.Conv();
        var dims = proto.Graph.Input[0].Type.TensorType.Shape.Dim;
        dims[2].DimValue = 65_536;
        dims[3].DimValue = 65_536;

        var e = Refused(proto, null, ErrorCodes.InputTooLarge);

        Assert.Contains("'x'", e.Message);
        Assert.Contains("1 x 2 x 65,536 x 65,536", e.Message);
        Assert.Contains("16,777,216", e.Message);
        Assert.Contains("--max-input-values", e.Hint);
        Assert.Contains("DSG_MAX_INPUT_VALUES", e.Hint);
    }

    [Fact]
    public void The_default_input_limit_takes_ImageNet_and_2048_pixel_inputs_and_a_dynamic_batch_counts_one_sample()
    {
        var proto = GraphValidatorTests.Conv();
        var dims = proto.Graph.Input[0].Type.TensorType.Shape.Dim;
        dims[0].DimParam = "batch";
        dims[1].DimValue = 3;
        dims[2].DimValue = 2048;
        dims[3].DimValue = 2048;
        proto.Graph.Initializer[0] = OnnxTensor.FromFloats("w", new float[9], 3, 3, 1, 1);
        OnnxModel.FromBytes(proto.ToByteArray(), null, "large.onnx");

        // A fixed batch counts: 2 x 3 x 2048 x 2048 is past 2^24.
        dims[0].DimValue = 2;
        Refused(proto, null, ErrorCodes.InputTooLarge);
        Assert.Equal(1L << 24, ModelLimits.Default.MaxInputValues);
    }

    [Fact]
    public void A_raised_input_limit_accepts_what_the_default_refuses()
    {
        var proto = GraphValidatorTests.Conv();
        proto.Graph.Input[0].Type.TensorType.Shape.Dim[2].DimValue = 8_000_000;
        Refused(proto, null, ErrorCodes.InputTooLarge);

        OnnxModel.FromBytes(proto.ToByteArray(), null, "tall.onnx", ModelLimits.Default with { MaxInputValues = 100_000_000 });
    }

    [Fact]
    public void A_graph_past_the_node_limit_is_DSG0110_and_one_at_the_limit_loads()
    {
        var proto = GraphValidatorTests.Conv();
        var limits = ModelLimits.Default with { MaxNodes = 2 };
        OnnxModel.FromBytes(proto.ToByteArray(), null, "two.onnx", limits);

        proto.Graph.Node.Add(new NodeProto { OpType = "Identity", Name = "extra", Input = { "y" }, Output = { "z" } });
        proto.Graph.Output[0].Name = "z";
        var e = Refused(proto, limits, ErrorCodes.TooManyNodes);

        Assert.Contains("3 nodes", e.Message);
        Assert.Contains("--max-nodes", e.Hint);
    }

    [Fact]
    public void Two_hundred_thousand_nodes_are_refused_by_default_in_well_under_a_second_of_validation()
    {
        var proto = GraphValidatorTests.Conv();
        string previous = "y";
        for (int i = 0; i < 200_000; i++)
        {
            proto.Graph.Node.Add(new NodeProto { OpType = "Identity", Input = { previous }, Output = { $"n{i}" } });
            previous = $"n{i}";
        }

        proto.Graph.Output[0].Name = previous;
        var bytes = proto.ToByteArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var e = Assert.Throws<DsgException>(() => OnnxModel.FromBytes(bytes, null, "chain.onnx"));

        Assert.Equal(ErrorCodes.TooManyNodes, e.Code);
        Assert.Contains("200,002 nodes", e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), clock.Elapsed.ToString());
    }

    [Fact]
    public void Tensors_past_the_model_size_limit_are_DSG0111_before_external_data_is_read()
    {
        var model = RepoPaths.Model("resnet_fmnist.onnx");
        var limits = ModelLimits.Default with { MaxModelBytes = 100_000 };

        var e = Assert.Throws<DsgException>(() => OnnxModel.Load(model, limits));

        Assert.Equal(ErrorCodes.ModelTooLarge, e.Code);
        Assert.Contains("--max-model-size", e.Hint);
        Assert.Contains("0.1 MB", e.Message);
        OnnxModel.Load(model);
    }

    [Fact]
    public void A_declared_input_shape_past_the_limit_is_DSG0109_saying_it_came_from_input_shape()
    {
        var model = OnnxModel.Load(RepoPaths.Model("bad/dynamic_spatial.onnx"));

        var e = Assert.Throws<DsgException>(() => ModelInspector.SampleShape(model, [1, 8192, 8192]));

        Assert.Equal(ErrorCodes.InputTooLarge, e.Code);
        Assert.StartsWith("--input-shape makes a sample", e.Message);
        Assert.Equal([1L, 64, 64], ModelInspector.SampleShape(model, [1, 64, 64]));
    }

    [Fact]
    public void Limits_below_one_are_DSG0301()
    {
        Assert.Equal(ErrorCodes.BadOption, Assert.Throws<DsgException>(() => (ModelLimits.Default with { MaxNodes = 0 }).Validate()).Code);
    }

    private static DsgException Refused(ModelProto proto, ModelLimits? limits, string code)
    {
        var e = Assert.Throws<DsgException>(() => OnnxModel.FromBytes(proto.ToByteArray(), null, "crafted.onnx", limits));
        Assert.Equal(code, e.Code);
        return e;
    }
}
