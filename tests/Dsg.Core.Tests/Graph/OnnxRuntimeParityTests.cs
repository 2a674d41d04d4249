using Dsg.Core.Inspection;
using static Dsg.Core.Tests.Graph.OnnxGraphBuilder;

namespace Dsg.Core.Tests.Graph;

/// <summary>Pooling and transposed-convolution edge cases (ceil mode, padding counts, output_shape splits) against ONNX Runtime.</summary>
public sealed class OnnxRuntimeParityTests
{
    [Theory]
    [InlineData(1, 1, 3, 2, 1)]
    [InlineData(1, 0, 3, 2, 1)]
    [InlineData(0, 1, 3, 2, 1)]
    [InlineData(1, 1, 2, 2, 0)]
    [InlineData(1, 1, 3, 3, 1)]
    public void AveragePool_matches_onnx_runtime(int ceil, int include, int k, int s, int p)
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", null, 2, 8, 8).Output("y", null, 2, null, null);
        b.Node("AveragePool", ["x"], ["y"], Ints("kernel_shape", k, k), Ints("strides", s, s), Ints("pads", p, p, p, p),
            Int("count_include_pad", include), Int("ceil_mode", ceil));
        var r = ExecutorVerifier.Verify(b.Build(), 2, 0);
        Assert.True(r.MaxAbsDifference < 1e-5, $"{r.MaxAbsDifference}");
    }

    [Theory]
    [InlineData(1, 3, 2, 1)]
    [InlineData(1, 2, 2, 0)]
    [InlineData(1, 3, 3, 1)]
    [InlineData(1, 2, 2, 1)]
    public void MaxPool_matches_onnx_runtime(int ceil, int k, int s, int p)
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", null, 2, 7, 7).Output("y", null, 2, null, null);
        b.Node("MaxPool", ["x"], ["y"], Ints("kernel_shape", k, k), Ints("strides", s, s), Ints("pads", p, p, p, p), Int("ceil_mode", ceil));
        var r = ExecutorVerifier.Verify(b.Build(), 2, 0);
        Assert.True(r.MaxAbsDifference < 1e-5, $"{r.MaxAbsDifference}");
    }

    [Theory]
    [InlineData("NOTSET", 7)]
    [InlineData("NOTSET", 6)]
    [InlineData("NOTSET", 8)]
    [InlineData("SAME_UPPER", 6)]
    [InlineData("SAME_UPPER", 0)]
    [InlineData("SAME_LOWER", 0)]
    public void ConvTranspose_output_shape_matches_onnx_runtime(string autoPad, long outSize)
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", null, 2, 3, 3).Output("y", null, 3, null, null);
        var attrs = new List<Dsg.Core.Onnx.Proto.AttributeProto> { Ints("strides", 2, 2), String("auto_pad", autoPad) };
        if (outSize > 0)
        {
            attrs.Add(Ints("output_shape", outSize, outSize));
        }

        b.Node("ConvTranspose", ["x", b.RandomWeight("w", new Random(1), 1, 2, 3, 3, 3)], ["y"], attrs.ToArray());
        var r = ExecutorVerifier.Verify(b.Build(), 2, 0);
        Assert.True(r.MaxAbsDifference < 1e-5, $"{r.MaxAbsDifference}");
    }

    [Theory]
    [InlineData("nearest", "asymmetric", "floor", 0, 2.0)]
    [InlineData("nearest", "half_pixel", "round_prefer_floor", 7, 0)]
    [InlineData("nearest", "align_corners", "round_prefer_ceil", 7, 0)]
    [InlineData("nearest", "tf_half_pixel_for_nn", "ceil", 3, 0)]
    [InlineData("linear", "half_pixel", "round_prefer_floor", 0, 0.5)]
    [InlineData("linear", "half_pixel", "round_prefer_floor", 0, 2.0)]
    [InlineData("linear", "align_corners", "round_prefer_floor", 7, 0)]
    [InlineData("linear", "pytorch_half_pixel", "round_prefer_floor", 3, 0)]
    [InlineData("linear", "asymmetric", "round_prefer_floor", 0, 2.0)]
    [InlineData("cubic", "half_pixel", "round_prefer_floor", 0, 2.0)]
    [InlineData("cubic", "align_corners", "round_prefer_floor", 9, 0)]
    public void Resize_matches_onnx_runtime(string mode, string coordinates, string nearestMode, long size, double scale)
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", null, 2, 4, 4).Output("y", null, 2, null, null);
        var inputs = size > 0
            ? new[] { "x", "", "", b.Int64s("sizes", 2, 2, size, size) }
            : new[] { "x", "", b.Weight("scales", [1, 1, scale, scale], 4) };
        b.Node("Resize", inputs, ["y"], String("mode", mode), String("coordinate_transformation_mode", coordinates),
            String("nearest_mode", nearestMode));
        var r = ExecutorVerifier.Verify(b.Build(), 2, 0);
        Assert.True(r.MaxAbsDifference < 1e-5, $"{r.MaxAbsDifference}");
    }
}
