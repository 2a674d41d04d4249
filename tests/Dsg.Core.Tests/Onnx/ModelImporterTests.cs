using Dsg.Core.Inspection;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Import;
using Dsg.Core.Onnx.Proto;
using Dsg.Core.Runtime;
using Dsg.Core.Tests.Graph;
using Dsg.Tests.Shared;
using static Dsg.Core.Tests.Graph.OnnxGraphBuilder;

namespace Dsg.Core.Tests.Onnx;

/// <summary>
/// Importing rewrites old-opset forms, Constant weights and IR-3 initializer inputs so that the copy means exactly what
/// the file means: ONNX Runtime on the original and on the import agree, and the executor on the import agrees with both.
/// </summary>
public sealed class ModelImporterTests
{
    private static readonly Random s_random = new(7);

    [Fact]
    public void Opset_8_forms_are_upgraded_to_13_with_the_same_outputs()
    {
        var b = new OnnxGraphBuilder(opset: 8);
        b.Input("x", 2, 3, 8, 8).Output("y", 2, 4, 16, 16).Output("p", 2, 4, 16, 16);
        var conv = b.Node("Conv", ["x", b.RandomWeight("w", s_random, 0.5, 4, 3, 3, 3), b.RandomWeight("cb", s_random, 0.1, 4)], null,
            Ints("pads", 1, 1, 1, 1));
        var bn = b.Node("BatchNormalization", [conv, b.Weight("g", [1, 0.5, 2, 1.5], 4), b.Weight("bb", [0.1, 0, -0.2, 0.3], 4),
            b.Weight("m", [0.2, -0.1, 0, 0.4], 4), b.Weight("v", [1, 2, 0.5, 1.5], 4)], null, Int("spatial", 1), Float("epsilon", 1e-5f));
        var relu = b.Node("Relu", [bn]);
        var up = b.Node("Upsample", [relu], null, String("mode", "nearest"), Floats("scales", 1, 1, 2, 2));
        var pad = b.Node("Pad", [up], null, Ints("pads", 0, 0, 1, 2, 0, 0, 1, 0), Float("value", 0.5f));
        var slice = b.Node("Slice", [pad], null, Ints("starts", 1, 2), Ints("ends", 17, 18), Ints("axes", 2, 3));
        var clip = b.Node("Clip", [slice], null, Float("min", 0.1f), Float("max", 3f));
        var unsqueeze = b.Node("Unsqueeze", [clip], null, Ints("axes", 0));
        var squeeze = b.Node("Squeeze", [unsqueeze], null, Ints("axes", 0));
        b.Node("Dropout", [squeeze], ["y"], Float("ratio", 0.3f));
        b.Node("Softmax", [squeeze], ["p"], Int("axis", 1));
        var original = b.Build();

        var imported = ModelImporter.Import(original);

        Assert.Equal(8, imported.OriginalOpset);
        Assert.Equal(13, imported.Model.Opset);
        Assert.Equal(8, original.Opset);
        var nodes = imported.Model.Graph.Node;
        Assert.DoesNotContain(nodes, n => n.OpType == "Upsample");
        Assert.All(nodes.Where(n => n.OpType is "Pad" or "Slice" or "Clip" or "Squeeze" or "Unsqueeze" or "Dropout" or "BatchNormalization"),
            n => Assert.DoesNotContain(n.Attribute, a => a.Name is "pads" or "starts" or "ends" or "axes" or "min" or "max" or "ratio" or "spatial"));
        AssertSameOutputs(original, imported.Model, [2, 3, 8, 8]);
        Assert.True(ExecutorVerifier.Verify(original, 2, 3).MaxAbsDifference <= 1e-4);
    }

    [Fact]
    public void Opset_10_resize_and_opset_7_and_9_upsample_become_resize_13()
    {
        var b9 = new OnnxGraphBuilder(opset: 9);
        b9.Input("x", 1, 2, 5, 5).Output("y", 1, 2, 10, 10);
        b9.Node("Upsample", ["x", b9.Weight("s", [1, 1, 2, 2], 4)], ["y"], String("mode", "nearest"));
        var b10 = new OnnxGraphBuilder(opset: 10);
        b10.Input("x", 1, 2, 5, 5).Output("y", 1, 2, 15, 10);
        b10.Node("Resize", ["x", b10.Weight("s", [1, 1, 3, 2], 4)], ["y"], String("mode", "nearest"));
        var b7 = new OnnxGraphBuilder(opset: 7);
        b7.Input("x", 1, 2, 5, 5).Output("y", 1, 2, 10, 15);
        b7.Node("Upsample", ["x"], ["y"], String("mode", "linear"), Floats("scales", 1, 1, 2, 3));

        foreach (var original in new[] { b10.Build(), b9.Build(), b7.Build() })
        {
            var imported = ModelImporter.Import(original).Model;
            Assert.Equal("Resize", Assert.Single(imported.Graph.Node).OpType);
            AssertSameOutputs(original, imported, [1, 2, 5, 5]);
            Assert.True(ExecutorVerifier.Verify(original, 1, 4).MaxAbsDifference <= 1e-4);
        }
    }

    [Fact]
    public void Constant_node_weights_become_initializers_and_count_as_parameters()
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", null, 3, 4, 4).Output("y", null, 2, 4, 4);
        var w = OnnxTensor.FromFloats("", Enumerable.Range(0, 2 * 3 * 9).Select(i => (float)Math.Sin(i)).ToArray(), 2, 3, 3, 3);
        b.Node("Constant", [], ["w"], Tensor("value", w));
        b.Node("Constant", [], ["bias"], Tensor("value", OnnxTensor.FromFloats("", [0.5f, -0.5f], 2)));
        b.Node("Conv", ["x", "w", "bias"], ["y"], Ints("pads", 1, 1, 1, 1));
        var original = b.Build();

        var imported = ModelImporter.Import(original);

        Assert.Equal("Conv", Assert.Single(imported.Model.Graph.Node).OpType);
        Assert.Equal(["bias", "w"], imported.Model.Graph.Initializer.Select(t => t.Name).Order());
        Assert.Contains(imported.Changes, c => c.Contains("2 Constant node(s)", StringComparison.Ordinal));
        Assert.Equal(2 * 3 * 9 + 2, ModelInspector.Inspect(original).ParameterCount);
        AssertSameOutputs(original, imported.Model, [2, 3, 4, 4]);
    }

    [Fact]
    public void Initializers_listed_as_graph_inputs_are_dropped_from_the_inputs()
    {
        var b = new OnnxGraphBuilder(opset: 9);
        b.Input("x", null, 3, 4, 4).Output("y", null, 2, 2, 2);
        var w = b.RandomWeight("w", s_random, 1, 2, 3, 3, 3);
        var type = b.Graph.Input[0].Type.Clone();
        type.TensorType.Shape.Dim.Clear();
        type.TensorType.Shape.Dim.AddRange(new long[] { 2, 3, 3, 3 }.Select(d => new TensorShapeProto.Types.Dimension { DimValue = d }));
        b.Graph.Input.Add(new ValueInfoProto { Name = w, Type = type });
        b.Node("Conv", ["x", w], ["y"]);
        var original = b.Build();

        var imported = ModelImporter.Import(original).Model;

        Assert.Equal("x", Assert.Single(imported.Graph.Input).Name);
        AssertSameOutputs(original, imported, [1, 3, 4, 4]);
    }

    [Fact]
    public void Softmax_on_a_4d_tensor_keeps_its_pre_13_meaning()
    {
        var b = new OnnxGraphBuilder(opset: 11);
        b.Input("x", 2, 3, 4, 5).Output("y", 2, 3, 4, 5);
        b.Node("Softmax", ["x"], ["y"], Int("axis", 2));
        var original = b.Build();

        var imported = ModelImporter.Import(original).Model;

        Assert.Contains(imported.Graph.Node, n => n.OpType == "Flatten");
        AssertSameOutputs(original, imported, [2, 3, 4, 5]);
    }

    [Fact]
    public void An_op_without_a_conversion_is_named_in_DSG0206()
    {
        var b = new OnnxGraphBuilder(opset: 9);
        b.Input("x", 1, 4).Output("v", 1, 2).Output("i", 1, 2);
        b.Node("TopK", ["x"], ["v", "i"], Int("k", 2));
        var e = Assert.Throws<DsgException>(() => ModelImporter.Import(b.Build()));
        Assert.Equal(ErrorCodes.OpsetNotUpgradable, e.Code);
        Assert.Contains("TopK", e.Message, StringComparison.Ordinal);
        Assert.Contains(ModelInspector.Inspect(b.Build()).Problems, p => p.Code == ErrorCodes.OpsetNotUpgradable);
    }

    [Fact]
    public void Per_activation_batch_norm_is_refused_with_DSG0206()
    {
        var b = new OnnxGraphBuilder(opset: 8);
        b.Input("x", 1, 2).Output("y", 1, 2);
        b.Node("BatchNormalization", ["x", b.Weight("g", [1, 1], 2), b.Weight("b", [0, 0], 2), b.Weight("m", [0, 0], 2), b.Weight("v", [1, 1], 2)],
            ["y"], Int("spatial", 0));
        var e = Assert.Throws<DsgException>(() => ModelImporter.Import(b.Build()));
        Assert.Equal(ErrorCodes.OpsetNotUpgradable, e.Code);
        Assert.Contains("spatial=0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_at_opset_13_is_left_as_it_is()
    {
        var model = OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx"));
        var imported = ModelImporter.Import(model);
        Assert.Empty(imported.Changes);
        Assert.Equal(model.ToBytes(), imported.Model.ToBytes());
    }

    private static AttributeProto Floats(string name, params float[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats };
        a.Floats.AddRange(values);
        return a;
    }

    private static void AssertSameOutputs(OnnxModel original, OnnxModel imported, long[] shape)
    {
        var random = new Random(11);
        var data = Enumerable.Range(0, (int)shape.Aggregate(1L, (a, d) => a * d)).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        using var a = new OnnxRuntimeRunner(original);
        using var b = new OnnxRuntimeRunner(imported);
        var expected = a.Run(data, shape);
        var actual = b.Run(data, shape);
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Shape, actual[i].Shape);
            double max = expected[i].Floats.Zip(actual[i].Floats).Max(p => Math.Abs(p.First - p.Second));
            Assert.True(max <= 1e-5, $"output {expected[i].Name}: max difference {max}");
        }
    }
}
