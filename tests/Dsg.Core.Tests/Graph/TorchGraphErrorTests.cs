using Dsg.Core.Graph;
using Dsg.Core.Onnx;
using Dsg.Tests.Shared;
using TorchSharp;
using static Dsg.Core.Tests.Graph.OnnxGraphBuilder;

namespace Dsg.Core.Tests.Graph;

/// <summary>Models and inputs the executor refuses, each with its stable code.</summary>
public sealed class TorchGraphErrorTests
{
    [Fact]
    public void Every_unsupported_op_is_listed_with_its_nodes()
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", null, 4).Output("y", null, 4);
        var h = b.Node("Hardmax", ["x"]);
        var n = b.Node("LpNormalization", [h]);
        var m = b.Node("Hardmax", [n]);
        b.Node("Relu", [m], ["y"]);
        var e = Assert.Throws<DsgException>(() => TorchGraph.Create(b.Build()));
        Assert.Equal(ErrorCodes.UnsupportedOps, e.Code);
        Assert.Contains("Hardmax (Hardmax_1, Hardmax_5)", e.Message);
        Assert.Contains("LpNormalization (LpNormalization_3)", e.Message);
    }

    [Fact]
    public void Unsupported_ops_asset_is_refused_with_both_ops_named()
    {
        var e = Assert.Throws<DsgException>(() => TorchGraph.Create(OnnxModel.Load(RepoPaths.Model("bad/unsupported_ops.onnx"))));
        Assert.Equal(ErrorCodes.UnsupportedOps, e.Code);
        Assert.Contains("Hardmax", e.Message);
        Assert.Contains("LpNormalization", e.Message);
    }

    [Fact]
    public void Dynamic_spatial_dims_need_a_declared_shape()
    {
        var model = DynamicSpatial();
        var e = Assert.Throws<DsgException>(() => TorchGraph.Create(model));
        Assert.Equal(ErrorCodes.DynamicInputShape, e.Code);
        Assert.Contains("--input-shape", e.Hint);

        using var graph = TorchGraph.Create(model, new TorchGraphOptions([1, 8, 8]));
        Assert.Equal([1L, 8, 8], graph.InputShape);
        using var scope = torch.NewDisposeScope();
        Assert.Equal([2L, 1, 8, 8], graph.Forward(torch.randn(2, 1, 8, 8)).Outputs[0].shape);
    }

    [Fact]
    public void Dynamic_spatial_asset_needs_a_declared_shape_and_then_runs()
    {
        var model = OnnxModel.Load(RepoPaths.Model("bad/dynamic_spatial.onnx"));
        Assert.Equal(ErrorCodes.DynamicInputShape, Assert.Throws<DsgException>(() => TorchGraph.Create(model)).Code);
        using var graph = TorchGraph.Create(model, new TorchGraphOptions([1, 28, 28]));
        using var scope = torch.NewDisposeScope();
        Assert.Equal([3L, 10], graph.Forward(torch.randn(3, 1, 28, 28)).Outputs[0].shape);
    }

    [Fact]
    public void A_declared_shape_must_agree_with_static_dims()
    {
        var model = TestModels.SmallCnn();
        Assert.Equal(ErrorCodes.InputShapeConflict, Assert.Throws<DsgException>(() => TorchGraph.Create(model, new TorchGraphOptions([1, 9, 8]))).Code);
        Assert.Equal(ErrorCodes.InputShapeConflict, Assert.Throws<DsgException>(() => TorchGraph.Create(model, new TorchGraphOptions([1, 8]))).Code);
        using var graph = TorchGraph.Create(model, new TorchGraphOptions([1, 8, 8]));
        Assert.Equal([1L, 8, 8], graph.InputShape);
    }

    [Fact]
    public void Training_mode_batchnorm_is_refused()
    {
        var b = new OnnxGraphBuilder(15);
        b.Input("x", null, 2, 3, 3).Output("y", null, 2, 3, 3);
        var s = b.Weight("s", [1, 1], 2);
        var z = b.Weight("z", [0, 0], 2);
        b.Node("BatchNormalization", ["x", s, z, z, s], ["y"], Int("training_mode", 1));
        var e = Assert.Throws<DsgException>(() => TorchGraph.Create(b.Build()));
        Assert.Equal(ErrorCodes.UnsupportedNode, e.Code);
        Assert.Contains("training_mode", e.Message);
    }

    [Fact]
    public void Unsupported_attribute_values_are_refused()
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", null, 1, 4, 4).Output("y", null, 1, 2, 2);
        b.Node("Resize", ["x", "", b.Weight("scales", [1, 1, 0.5, 0.5], 4)], ["y"], String("mode", "lanczos"));
        var e = Assert.Throws<DsgException>(() => TorchGraph.Create(b.Build()));
        Assert.Equal(ErrorCodes.UnsupportedNode, e.Code);
        Assert.Contains("lanczos", e.Message);
    }

    [Fact]
    public void Forward_refuses_a_batch_of_the_wrong_shape()
    {
        using var graph = TorchGraph.Create(TestModels.SmallCnn());
        using var scope = torch.NewDisposeScope();
        var e = Assert.Throws<DsgException>(() => graph.Forward(torch.randn(2, 1, 9, 8)));
        Assert.Equal(ErrorCodes.ExecutorInputMismatch, e.Code);
        Assert.Contains("N x 1 x 8 x 8", e.Message);
    }

    [Fact]
    public void A_node_that_fails_at_run_time_is_named()
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", null, 6).Output("y", null, 4);
        b.Node("Reshape", ["x", b.Int64s("shape", -1, 4)], ["y"]);
        using var graph = TorchGraph.Create(b.Build());
        using var scope = torch.NewDisposeScope();
        var e = Assert.Throws<DsgException>(() => graph.Forward(torch.randn(1, 6)));
        Assert.Equal(ErrorCodes.NodeExecutionFailed, e.Code);
        Assert.Contains("Reshape node 'Reshape_0'", e.Message);
    }

    [Fact]
    public void Cuda_is_refused_when_there_is_no_cuda_runtime()
    {
        var model = TestModels.SmallCnn();
        if (torch.cuda_is_available())
        {
            using var graph = TorchGraph.Create(model, new TorchGraphOptions(null, "cuda"));
            Assert.Equal(DeviceType.CUDA, graph.Device.type);
            return;
        }

        Assert.Equal(ErrorCodes.CudaUnavailable, Assert.Throws<DsgException>(() => TorchGraph.Create(model, new TorchGraphOptions(null, "cuda"))).Code);
        using var auto = TorchGraph.Create(model, new TorchGraphOptions(null, "auto"));
        Assert.Equal(DeviceType.CPU, auto.Device.type);
        Assert.Equal(ErrorCodes.BadOption, Assert.Throws<DsgException>(() => TorchGraph.Create(model, new TorchGraphOptions(null, "tpu"))).Code);
    }

    private static OnnxModel DynamicSpatial()
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", null, 1, null, null).Output("y", null, 1, null, null);
        b.Node("Relu", ["x"], ["y"]);
        return b.Build();
    }
}
