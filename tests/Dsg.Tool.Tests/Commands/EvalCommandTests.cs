using Dsg.Core;
using Dsg.Tests.Shared;

namespace Dsg.Tool.Tests.Commands;

public sealed class EvalCommandTests
{
    private static readonly string s_model = RepoPaths.Model("resnet_fmnist.onnx");

    [Fact]
    public void ModelAgainstItselfAgreesFullyAndReportsAccuracyLatencyAndSize()
    {
        var run = InProcessTool.Run("eval", s_model, s_model, "--data", RepoPaths.Data("fmnist_test_64.npy"),
            "--labels", RepoPaths.Data("fmnist_test_64_labels.npy"), "--threads", "2", "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        var report = run.Line("eval");
        Assert.Equal(64, report.GetProperty("samples").GetInt32());
        Assert.Equal(1.0, report.GetProperty("agreement").GetDouble());
        var reference = report.GetProperty("reference");
        Assert.InRange(reference.GetProperty("accuracy").GetDouble(), 0.8, 1.0);
        Assert.Equal(new FileInfo(s_model).Length, reference.GetProperty("fileBytes").GetInt64());
        Assert.True(reference.GetProperty("latencyBatch1Ms").GetDouble() > 0);
        Assert.Equal(64, reference.GetProperty("latencyBatchSize").GetInt32());
    }

    [Fact]
    public void TheMetricFollowsTheOutputKindAndIsNamed()
    {
        var classifier = InProcessTool.Run("eval", s_model, s_model, "--samples", "8", "--json");
        Assert.True(classifier.ExitCode == 0, classifier.ToString());
        Assert.Equal("logits", classifier.Line("eval").GetProperty("outputKind").GetString());
        Assert.Equal("top-1", classifier.Line("eval").GetProperty("agreementMetric").GetString());

        var embedding = InProcessTool.Run("eval", s_model, s_model, "--samples", "8", "--output-kind", "embedding", "--json");
        Assert.True(embedding.ExitCode == 0, embedding.ToString());
        var report = embedding.Line("eval");
        Assert.Equal("embedding", report.GetProperty("outputKind").GetString());
        Assert.Equal("cosine", report.GetProperty("agreementMetric").GetString());
        Assert.Equal(1.0, report.GetProperty("agreement").GetDouble(), 6);

        var text = InProcessTool.Run("eval", s_model, s_model, "--samples", "8", "--output-kind", "embedding");
        Assert.Contains("Output kind   embedding [N,10] (Gemm", text.Output);
        Assert.Contains("Agreement     1.0000 mean cosine similarity with fp32", text.Output);
    }

    [Fact]
    public void WithoutDataItUsesSeededGaussianSamplesAndPrintsATable()
    {
        var run = InProcessTool.Run("eval", s_model, s_model, "--samples", "8", "--seed", "5");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("8 N(0,1) samples (seed 5)", run.Output);
        Assert.Contains("Agreement     100.00 % top-1 agreement with fp32", run.Output);
        Assert.Contains("File size", run.Output);
    }

    [Fact]
    public void IdxImagesWithDeclaredPreprocessingReproduceTheAssetsTestAccuracy()
    {
        string images = Path.Combine(RepoPaths.FashionMnist, "t10k-images-idx3-ubyte.gz");
        string labels = Path.Combine(RepoPaths.FashionMnist, "t10k-labels-idx1-ubyte.gz");
        var run = InProcessTool.Run("eval", s_model, s_model, "--data", images, "--labels", labels, "--mean", "0.2860", "--std", "0.3530", "--threads", "2", "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        var report = run.Line("eval");
        Assert.Equal(10_000, report.GetProperty("samples").GetInt32());
        // testassets/models/manifest.json: resnet_fmnist scores 92.14 % on the Fashion-MNIST test set.
        Assert.Equal(0.9214, report.GetProperty("reference").GetProperty("accuracy").GetDouble(), 4);

        var undeclared = InProcessTool.Run("eval", s_model, s_model, "--data", images);
        Assert.Equal(1, undeclared.ExitCode);
        Assert.StartsWith($"error {ErrorCodes.PreprocessingRequired}:", undeclared.Error);
        Assert.Contains("--mean", undeclared.Error);

        var bad = InProcessTool.Run("eval", s_model, s_model, "--data", images, "--mean", "grey", "--std", "0.35");
        Assert.Equal(1, bad.ExitCode);
        Assert.StartsWith($"error {ErrorCodes.BadOption}:", bad.Error);
    }

    [Fact]
    public void LabelsWithoutDataAndAMissingModelAreCodedErrors()
    {
        var labels = InProcessTool.Run("eval", s_model, s_model, "--labels", RepoPaths.Data("fmnist_test_64_labels.npy"));
        Assert.Equal(1, labels.ExitCode);
        Assert.StartsWith($"error {ErrorCodes.CommandLineUsage}:", labels.Error);

        var missing = InProcessTool.Run("eval", s_model, Path.Combine(Path.GetTempPath(), "dsg-no-such-model.onnx"));
        Assert.Equal(1, missing.ExitCode);
        Assert.StartsWith("error DSG01", missing.Error);
    }

    [Fact]
    public void SamplesHelpDescribesTheEvaluationInputsNotCalibration()
    {
        var help = InProcessTool.Run("eval", "--help").Output;

        Assert.Contains("how many N(0,1) inputs", help);
        Assert.DoesNotContain("Number of calibration samples", help);
    }
}
