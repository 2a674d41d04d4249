using Dsg.Core;
using Dsg.Core.Onnx;
using Dsg.Tests.Shared;

namespace Dsg.Tool.Tests.Commands;

public sealed class InspectCommandTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static void AssertCleanError(ToolRun run, string code)
    {
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.StartsWith($"error {code}: ", run.Error);
        Assert.Contains("hint: ", run.Error);
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Fact]
    public void ReadyModelIsDescribedAndExitsZero()
    {
        var run = InProcessTool.Run("inspect", RepoPaths.Model("resnet_fmnist.onnx"));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("input: float [batch, 1, 28, 28]", run.Output);
        Assert.Contains("logits: float [batch, 10]", run.Output);
        Assert.Contains("Opset         13", run.Output);
        Assert.Matches(@"BatchNorm     [1-9]\d* layer", run.Output);
        Assert.Contains("BatchNormalization", run.Output);
        Assert.Contains("DSG ready     yes", run.Output);
        Assert.Matches(@"Output kind   logits \[N,10\] \(Gemm '[^']+'\); class term: cross-entropy on logits; agreement: top-1 agreement", run.Output);
        Assert.Equal("", run.Error);
    }

    [Fact]
    public void TheOutputKindIsInTheJsonAndARequestedKindIsShownAsSuch()
    {
        var run = InProcessTool.Run("inspect", RepoPaths.Model("resnet_fmnist.onnx"), "--json");
        var kind = Assert.Single(run.JsonLines).GetProperty("outputKind");
        Assert.Equal("logits", kind.GetProperty("kind").GetString());
        Assert.Equal("logits", kind.GetProperty("output").GetString());
        Assert.Equal("[N,10]", kind.GetProperty("shape").GetString());
        Assert.Equal("Gemm", kind.GetProperty("producer").GetString());
        Assert.Equal(1, kind.GetProperty("outputs").GetInt32());
        Assert.Equal("graph", kind.GetProperty("source").GetString());
        Assert.Equal("cross-entropy on logits", kind.GetProperty("classTerm").GetString());
        Assert.Equal("top-1", kind.GetProperty("agreementMetric").GetString());

        var requested = InProcessTool.Run("inspect", RepoPaths.Model("resnet_fmnist.onnx"), "--output-kind", "probabilities");
        Assert.True(requested.ExitCode == 0, requested.ToString());
        Assert.Contains("Output kind   probabilities [N,10] (Gemm", requested.Output);
        Assert.Contains("as set by --output-kind; class term: NLL on log-probabilities", requested.Output);

        var embedding = InProcessTool.Run("inspect", RepoPaths.Model("resnet_fmnist.onnx"), "--output-kind", "embedding");
        Assert.Contains("class term off; agreement: mean cosine similarity", embedding.Output);
    }

    [Fact]
    public void JsonIsOneObjectWithNumericShapesAndHistogram()
    {
        var run = InProcessTool.Run("inspect", RepoPaths.Model("resnet_fmnist.onnx"), "--json");
        Assert.Equal(0, run.ExitCode);
        var report = Assert.Single(run.JsonLines);
        Assert.Equal("inspect", report.GetProperty("type").GetString());
        Assert.True(report.GetProperty("dsgReady").GetBoolean());
        var shape = report.GetProperty("inputs")[0].GetProperty("shape");
        Assert.Equal("batch", shape[0].GetString());
        Assert.Equal(28, shape[3].GetInt32());
        Assert.True(report.GetProperty("parameters").GetInt64() > 10_000);
        Assert.Equal(report.GetProperty("batchNormLayers").GetInt32(), report.GetProperty("operators").GetProperty("BatchNormalization").GetInt32());
        Assert.Equal(0, report.GetProperty("problems").GetArrayLength());
    }

    [Fact]
    public void TheInputConventionIsPrintedWithWhereItCameFrom()
    {
        var run = InProcessTool.Run("inspect", RepoPaths.Model("resnet_fmnist.onnx"));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Matches(@"Input convention  mean -?0\.0\d* std (0\.9|1\.0)\d* \(inferred from Conv '/stem/stem\.0/Conv' \+ BatchNormalization '/stem/stem\.1/BatchNormalization'\)", run.Output);

        var json = InProcessTool.Run("inspect", RepoPaths.Model("resnet_fmnist.onnx"), "--json", "--input-mean", "0.5", "--input-range", "-1,1").Line("inspect");
        var input = json.GetProperty("inputConvention");
        Assert.Equal("inferred", input.GetProperty("source").GetString());
        Assert.Equal(0.5, input.GetProperty("mean")[0].GetDouble());
        Assert.InRange(input.GetProperty("std")[0].GetDouble(), 0.9, 1.1);
        Assert.Equal([-1.0, 1.0], input.GetProperty("range").EnumerateArray().Select(v => v.GetDouble()));
        Assert.StartsWith("mean declared; std inferred from Conv", input.GetProperty("detail").GetString());

        var folded = InProcessTool.Run("inspect", RepoPaths.Model("resnet_fmnist_folded.onnx"), "--json").Line("inspect").GetProperty("inputConvention");
        Assert.Equal("assumed", folded.GetProperty("source").GetString());
        Assert.Contains("not only BatchNormalization", folded.GetProperty("detail").GetString());

        var bad = InProcessTool.Run("inspect", RepoPaths.Model("resnet_fmnist.onnx"), "--input-std", "1,2");
        AssertCleanError(bad, ErrorCodes.BadOption);
        Assert.Contains("--input-std has 2 values", bad.Error);
    }

    [Fact]
    public void FoldedModelFailsWithNoBatchNormAndTheReExportAdvice()
    {
        var run = InProcessTool.Run("inspect", RepoPaths.Model("resnet_fmnist_folded.onnx"));
        AssertCleanError(run, ErrorCodes.NoBatchNorm);
        Assert.Contains("TrainingMode.PRESERVE", run.Error);
        Assert.Contains("DSG ready     no", run.Output);

        var json = InProcessTool.Run("inspect", RepoPaths.Model("resnet_fmnist_folded.onnx"), "--json");
        Assert.Equal(1, json.ExitCode);
        var problem = Assert.Single(json.Line("inspect").GetProperty("problems").EnumerateArray());
        Assert.Equal(ErrorCodes.NoBatchNorm, problem.GetProperty("code").GetString());
        Assert.Contains("TrainingMode.PRESERVE", problem.GetProperty("hint").GetString());
    }

    [Fact]
    public void UnsupportedOpsAreAllListedWithTheirNodeNames()
    {
        var path = Path.Combine(RepoPaths.TestAssets, "models", "bad", "unsupported_ops.onnx");
        var model = OnnxModel.Load(path);
        var run = InProcessTool.Run("inspect", path);
        AssertCleanError(run, ErrorCodes.UnsupportedOps);
        foreach (var node in model.Graph.Node.Where(n => n.OpType is "Hardmax" or "LpNormalization"))
        {
            Assert.Contains(node.OpType, run.Error);
            Assert.Contains(node.Name, run.Error);
        }

        var json = InProcessTool.Run("inspect", path, "--json").Line("inspect");
        var ops = json.GetProperty("unsupportedNodes").EnumerateArray().Select(n => n.GetProperty("opType").GetString()).ToHashSet();
        Assert.Equal(new HashSet<string?> { "Hardmax", "LpNormalization" }, ops);
    }

    [Fact]
    public void MissingFileIsModelNotFound()
    {
        var run = InProcessTool.Run("inspect", _folder.Combine("absent.onnx"));
        AssertCleanError(run, ErrorCodes.ModelNotFound);
        var json = InProcessTool.Run("inspect", _folder.Combine("absent.onnx"), "--json");
        Assert.Equal(1, json.ExitCode);
        var error = json.Line("error");
        Assert.Equal(ErrorCodes.ModelNotFound, error.GetProperty("code").GetString());
        Assert.Equal(_folder.Combine("absent.onnx"), error.GetProperty("file").GetString());
    }

    [Fact]
    public void TextFileIsNotOnnx()
    {
        var path = _folder.Write("readme.onnx", "this is not a protobuf, just some text that was renamed\n");
        AssertCleanError(InProcessTool.Run("inspect", path), ErrorCodes.NotOnnx);
    }

    [Fact]
    public void TruncatedModelIsReportedAsTruncated()
    {
        var bytes = File.ReadAllBytes(RepoPaths.Model("resnet_fmnist.onnx"));
        var path = _folder.Combine("half.onnx");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        AssertCleanError(InProcessTool.Run("inspect", path), ErrorCodes.TruncatedModel);
    }

    [Fact]
    public void DynamicSpatialDimsNeedADeclaredInputShape()
    {
        var model = OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx"));
        var dims = model.Graph.Input[0].Type.TensorType.Shape.Dim;
        dims[2].DimParam = "height";
        dims[3].DimParam = "width";
        var path = _folder.Combine("dynamic.onnx");
        model.Save(path);

        var run = InProcessTool.Run("inspect", path);
        AssertCleanError(run, ErrorCodes.DynamicInputShape);
        Assert.Contains("--input-shape", run.Error);

        var declared = InProcessTool.Run("inspect", path, "--input-shape", "1,28,28");
        Assert.True(declared.ExitCode == 0, declared.ToString());
        Assert.Contains("[batch, 1, height, width]", declared.Output);
    }

    [Fact]
    public void SecondGraphInputIsAnUnsupportedInput()
    {
        var model = OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx"));
        var extra = model.Graph.Input[0].Clone();
        extra.Name = "mask";
        model.Graph.Input.Add(extra);
        var path = _folder.Combine("two_inputs.onnx");
        model.Save(path);

        var run = InProcessTool.Run("inspect", path);
        AssertCleanError(run, ErrorCodes.UnsupportedInput);
        Assert.Contains("mask", run.Error);
    }
}
