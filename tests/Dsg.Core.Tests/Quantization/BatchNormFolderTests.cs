using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using Dsg.Core.Quantization;
using Dsg.Core.Runtime;
using Dsg.Tests.Shared;

namespace Dsg.Core.Tests.Quantization;

public sealed class BatchNormFolderTests
{
    [Fact]
    public void FoldingEveryBatchNormKeepsTheFp32Outputs()
    {
        var model = OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx"));
        int batchNorms = model.Graph.Node.Count(n => n.OpType == "BatchNormalization");
        var (folded, count) = BatchNormFolder.Fold(model);
        Assert.Equal(batchNorms, count);
        Assert.DoesNotContain(folded.Graph.Node, n => n.OpType == "BatchNormalization");
        Assert.Contains(model.Graph.Node, n => n.OpType == "BatchNormalization"); // the input is untouched
        AssertSameOutputs(model, folded, TestData.Real);
        AssertSameOutputs(model, folded, TestData.Noise(8, 1));
    }

    [Fact]
    public void FoldsIntoConvTransposeWithGroups()
    {
        var (model, random) = ConvTransposeWithBatchNorm();
        var (folded, count) = BatchNormFolder.Fold(model);
        Assert.Equal(1, count);
        Assert.Single(folded.Graph.Node);
        var x = new Dsg.Core.Data.CalibrationSet(Enumerable.Range(0, 36).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), [1, 4, 3, 3]);
        AssertSameOutputs(model, folded, x);
    }

    [Fact]
    public void FoldingReportsEachBatchNormsOutputStatisticsUnderTheTensorTheConvolutionNowProduces()
    {
        var (model, _) = ConvTransposeWithBatchNorm();
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name, t => OnnxTensor.ToFloats(t, model));

        var (folded, statistics) = BatchNormFolder.FoldWithStatistics(model);

        var bn = Assert.Single(statistics);
        Assert.Equal("y", bn.Tensor);
        Assert.Equal("y", Assert.Single(folded.Graph.Node).Output[0]);
        Assert.Equal(initializers["beta"], bn.Mean);
        Assert.Contains(initializers["gamma"], g => g < 0); // |γ|, not γ
        for (int c = 0; c < 6; c++)
        {
            double v = initializers["var"][c];
            Assert.Equal(Math.Abs(initializers["gamma"][c]) * Math.Sqrt(v / (v + 1e-5)), bn.Std[c], 1e-6);
        }
    }

    [Fact]
    public void EveryBatchNormOfTheResNetIsReportedOnceAndItsTensorIsAConvolutionsOutput()
    {
        var model = OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx"));
        var (folded, statistics) = BatchNormFolder.FoldWithStatistics(model);
        Assert.Equal(BatchNormFolder.Fold(model).Folded, statistics.Count);
        Assert.Equal(model.Graph.Node.Where(n => n.OpType == "BatchNormalization").Select(n => n.Output[0]), statistics.Select(s => s.Tensor));
        Assert.All(statistics, s => Assert.Equal("Conv", folded.Graph.Node.Single(n => n.Output.Contains(s.Tensor)).OpType));
    }

    /// <summary>x[1,4,3,3] → ConvTranspose(group 2, W[4,3,2,2], bias) → BN(6) → y, with random values (some γ negative).</summary>
    private static (OnnxModel Model, Random Random) ConvTransposeWithBatchNorm()
    {
        var random = new Random(7);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var graph = new GraphProto { Name = "g" };
        graph.Input.Add(Value("x", 1, 4, 3, 3));
        graph.Output.Add(Value("y", 1, 6, 4, 4));
        graph.Initializer.Add(OnnxTensor.FromFloats("w", R(48), 4, 3, 2, 2));
        graph.Initializer.Add(OnnxTensor.FromFloats("b", R(6), 6));
        graph.Initializer.Add(OnnxTensor.FromFloats("gamma", R(6), 6));
        graph.Initializer.Add(OnnxTensor.FromFloats("beta", R(6), 6));
        graph.Initializer.Add(OnnxTensor.FromFloats("mean", R(6), 6));
        graph.Initializer.Add(OnnxTensor.FromFloats("var", R(6).Select(v => v + 1.5f).ToArray(), 6));
        var conv = new NodeProto { OpType = "ConvTranspose", Name = "ct" };
        conv.Input.AddRange(["x", "w", "b"]);
        conv.Output.Add("t");
        conv.Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = 2 });
        var bn = new NodeProto { OpType = "BatchNormalization", Name = "bn" };
        bn.Input.AddRange(["t", "gamma", "beta", "mean", "var"]);
        bn.Output.Add("y");
        graph.Node.AddRange([conv, bn]);
        var proto = new ModelProto { IrVersion = 7, Graph = graph };
        proto.OpsetImport.Add(new OperatorSetIdProto { Version = 13 });
        return (OnnxModel.FromProto(proto), random);
    }

    private static ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.AddRange(dims.Select(d => new TensorShapeProto.Types.Dimension { DimValue = d }));
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
    }

    private static void AssertSameOutputs(OnnxModel a, OnnxModel b, Dsg.Core.Data.CalibrationSet data)
    {
        using var ra = new OnnxRuntimeRunner(a);
        using var rb = new OnnxRuntimeRunner(b);
        var ya = ra.RunFirstOutput(data.ToArray(), data.Shape);
        var yb = rb.RunFirstOutput(data.ToArray(), data.Shape);
        Assert.Equal(ya.Length, yb.Length);
        for (int i = 0; i < ya.Length; i++)
        {
            Assert.True(Math.Abs(ya[i] - yb[i]) <= 1e-4 * Math.Max(1, Math.Abs(ya[i])), $"output {i}: {ya[i]} vs {yb[i]}");
        }
    }
}
