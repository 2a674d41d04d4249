using Dsg.Core.Evaluation;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using Dsg.Core.Quantization;
using Dsg.Core.Runtime;
using Dsg.Core.Tests.Quantization;
using Dsg.Tests.Shared;

namespace Dsg.Core.Tests.Evaluation;

public sealed class ModelEvaluatorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsg-eval-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void CompareFilesReportsAgreementAccuracySqnrLatencyAndSizes()
    {
        string fp32 = RepoPaths.Model("resnet_fmnist.onnx");
        var model = OnnxModel.Load(fp32);
        string quantized = Path.Combine(_dir, "q.onnx");
        ModelQuantizer.Quantize(model, TestData.Real, QuantizationOptions.FromPrecision("W8A8")).Model.Save(quantized);

        var options = new EvaluationOptions { LatencyRuns = 3, WarmupRuns = 1, LatencyBatchSize = 8 };
        var report = ModelEvaluator.Compare(fp32, quantized, TestData.Real, options);
        Assert.Equal(64, report.Samples);
        Assert.InRange(report.Agreement, 0.9, 1.0);
        Assert.Equal(ModelEvaluator.Accuracy(model, TestData.Real), report.Reference.Accuracy);
        Assert.NotNull(report.Candidate.Accuracy);
        Assert.InRange(report.OutputSqnrDb, 15, 200);
        Assert.Equal(new FileInfo(fp32).Length, report.Reference.FileBytes);
        Assert.Equal(new FileInfo(quantized).Length, report.Candidate.FileBytes);
        Assert.True(report.SizeRatio > 2.5, $"size ratio {report.SizeRatio}");
        Assert.Equal(8, report.Candidate.Latency!.BatchSize);
        Assert.True(report.Reference.Latency!.Batch1Ms > 0 && report.Candidate.Latency.BatchMs > 0);

        // The same model against itself: full agreement, infinite SQNR.
        var self = ModelEvaluator.Compare(model, model, TestData.Real, new EvaluationOptions { MeasureLatency = false });
        Assert.Equal(1.0, self.Agreement);
        Assert.True(double.IsPositiveInfinity(self.OutputSqnrDb));
        Assert.Null(self.Reference.Latency);
    }

    [Fact]
    public void TopOnePicksTheLargestLogitPerRow()
    {
        Assert.Equal([2, 0], ModelEvaluator.TopOne([0f, 1f, 3f, 5f, -1f, 2f], 3));
    }

    [Fact]
    public void ModelsWithDifferentOutputsAreRejected()
    {
        var model = OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx"));
        var renamed = model.Clone();
        string old = renamed.Graph.Output[0].Name;
        renamed.Graph.Output[0].Name = "scores";
        foreach (var node in renamed.Graph.Node)
        {
            for (int i = 0; i < node.Output.Count; i++)
            {
                if (node.Output[i] == old)
                {
                    node.Output[i] = "scores";
                }
            }
        }

        var e = Assert.Throws<DsgException>(() => ModelEvaluator.Compare(model, renamed, TestData.Real, new EvaluationOptions { MeasureLatency = false }));
        Assert.Equal(ErrorCodes.ModelsDoNotMatch, e.Code);
    }

    [Fact]
    public void DataOfTheWrongShapeAndBadOptionsAreTyped()
    {
        var model = OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx"));
        Assert.Equal([1L, 28, 28], ModelEvaluator.SampleShape(model));
        var wrong = new Dsg.Core.Data.CalibrationSet(new float[2 * 3 * 28 * 28], [2, 3, 28, 28]);
        var e = Assert.Throws<DsgException>(() => ModelEvaluator.Compare(model, model, wrong, new EvaluationOptions { MeasureLatency = false }));
        Assert.Equal(ErrorCodes.CalibrationDataShapeMismatch, e.Code);
        Assert.Equal(ErrorCodes.BadOption, Assert.Throws<DsgException>(() => new EvaluationOptions { LatencyRuns = 0 }.Validate()).Code);
    }

    [Fact]
    public void OnnxRuntimeFailuresBecomeDsg0709()
    {
        var model = OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx")).Clone();
        model.Graph.Node[^1].OpType = "NoSuchOperator";
        Assert.Equal(ErrorCodes.OnnxRuntimeFailed, Assert.Throws<DsgException>(() => new OnnxRuntimeRunner(model)).Code);
    }
}
