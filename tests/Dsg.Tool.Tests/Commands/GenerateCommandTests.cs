using System.Text.Json;
using Dsg.Core;
using Dsg.Core.Data;
using Dsg.Core.Generation;
using Dsg.Tests.Shared;

namespace Dsg.Tool.Tests.Commands;

public sealed class GenerateCommandTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void GaussianWritesSamplesPreviewAndReportWithProgress()
    {
        var run = InProcessTool.Run("generate", RepoPaths.Model("resnet_fmnist.onnx"), "--out", _folder.Path, "--method", "gaussian",
            "--samples", "6", "--batch-size", "4", "--seed", "3", "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        var (samples, shape) = NpyFile.ReadFloat32(_folder.Combine("samples.npy"));
        Assert.Equal(new long[] { 6, 1, 28, 28 }, shape);
        Assert.Contains(samples, v => v != 0);
        Assert.True(new FileInfo(_folder.Combine("preview.png")).Length > 0);
        Assert.Contains("\"method\": \"gaussian\"", File.ReadAllText(_folder.Combine("generation.json")));
        var progress = run.JsonLines.Where(l => l.GetProperty("type").GetString() == "progress").ToList();
        Assert.Equal([1, 2], progress.Select(p => p.GetProperty("current").GetInt32()));
        Assert.All(progress, p => Assert.Equal(2, p.GetProperty("total").GetInt32()));
        // The first report only starts the rate; the last one has nothing left.
        Assert.All(progress, p => Assert.True(p.GetProperty("elapsedSeconds").GetDouble() >= 0));
        Assert.Equal(JsonValueKind.Null, progress[0].GetProperty("etaSeconds").ValueKind);
        Assert.Equal(0, progress[1].GetProperty("etaSeconds").GetDouble());
        Assert.Equal(_folder.Combine("samples.npy"), run.Line("result").GetProperty("output").GetString());
    }

    [Fact]
    public void AnOutputThatIsNotClassScoresWarnsAndIsRecordedInGenerationJson()
    {
        var run = InProcessTool.Run("generate", RepoPaths.Model("resnet_fmnist.onnx"), "--out", _folder.Path, "--samples", "2", "--batch-size", "2",
            "--iterations", "2", "--output-kind", "embedding", "--threads", "2", "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        var warning = run.Line("warning");
        Assert.Equal(ErrorCodes.ClassTermOff, warning.GetProperty("code").GetString());
        Assert.Contains("embedding", warning.GetProperty("message").GetString());
        using var report = JsonDocument.Parse(File.ReadAllText(_folder.Combine("generation.json")));
        Assert.Equal("embedding", report.RootElement.GetProperty("outputKind").GetString());
        Assert.Equal("off", report.RootElement.GetProperty("classTerm").GetString());
        Assert.Equal(ErrorCodes.ClassTermOff, report.RootElement.GetProperty("warnings")[0].GetProperty("code").GetString());
        Assert.False(report.RootElement.GetProperty("curves").TryGetProperty("ce", out _));

        var classifier = InProcessTool.Run("generate", RepoPaths.Model("resnet_fmnist.onnx"), "--out", _folder.Path, "--samples", "2", "--batch-size", "2",
            "--iterations", "1", "--threads", "2");
        Assert.True(classifier.ExitCode == 0, classifier.ToString());
        Assert.Contains("class term: cross-entropy on logits", classifier.Error);
        Assert.DoesNotContain("warning", classifier.Error);
    }

    [Fact]
    public void AblationsAreRecordedInGenerationJsonAndAcceptedByEveryMethod()
    {
        var run = InProcessTool.Run("generate", RepoPaths.Model("resnet_fmnist.onnx"), "--out", _folder.Path, "--method", "gaussian",
            "--samples", "2", "--batch-size", "2", "--without", "sci,class", "--term-weights", "bn=2");
        Assert.True(run.ExitCode == 0, run.ToString());
        using var report = JsonDocument.Parse(File.ReadAllText(_folder.Combine("generation.json")));
        var options = report.RootElement.GetProperty("options");
        Assert.False(options.GetProperty("useCorrelationInhibition").GetBoolean());
        Assert.False(options.GetProperty("useCrossEntropy").GetBoolean());
        Assert.True(options.GetProperty("useSlack").GetBoolean());
        Assert.Equal(2, options.GetProperty("batchNormWeight").GetDouble());
        Assert.Equal(GenerationOptions.Default.CrossEntropyWeight, options.GetProperty("crossEntropyWeight").GetDouble());
    }

    [Fact]
    public void TheDeclaredInputConventionShapesTheSamplesAndIsRecordedInGenerationJson()
    {
        var run = InProcessTool.Run("generate", RepoPaths.Model("resnet_fmnist.onnx"), "--out", _folder.Path, "--method", "gaussian",
            "--samples", "8", "--batch-size", "8", "--input-mean", "100", "--input-std", "50", "--input-range", "0,255");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Input convention: mean 100 std 50 range [0, 255] (declared)", run.Error + run.Output);
        var (samples, _) = NpyFile.ReadFloat32(_folder.Combine("samples.npy"));
        double mean = samples.Average(v => (double)v);
        double std = Math.Sqrt(samples.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, 97, 103);
        Assert.InRange(std, 47, 53);
        Assert.All(samples, v => Assert.InRange(v, 0f, 255f));
        using var report = JsonDocument.Parse(File.ReadAllText(_folder.Combine("generation.json")));
        var input = report.RootElement.GetProperty("options").GetProperty("input");
        Assert.Equal("declared", input.GetProperty("source").GetString());
        Assert.Equal(100, input.GetProperty("mean")[0].GetDouble());
        Assert.Equal(255, input.GetProperty("range").GetProperty("max").GetDouble());

        // A negative bound is a value, not an option; a mean list longer than the model's channels is a bad option.
        var centred = InProcessTool.Run("generate", RepoPaths.Model("resnet_fmnist.onnx"), "--out", _folder.Combine("c"), "--method", "gaussian",
            "--samples", "2", "--batch-size", "2", "--input-range", "-1,1");
        Assert.True(centred.ExitCode == 0, centred.ToString());
        var tooMany = InProcessTool.Run("generate", RepoPaths.Model("resnet_fmnist.onnx"), "--out", _folder.Combine("t"), "--method", "gaussian",
            "--samples", "2", "--input-mean", "0.4,0.5,0.6");
        Assert.Equal(1, tooMany.ExitCode);
        Assert.StartsWith($"error {ErrorCodes.BadOption}: --input-mean has 3 values", tooMany.Error);
        Assert.False(Directory.Exists(_folder.Combine("t")) && Directory.GetFileSystemEntries(_folder.Combine("t")).Length > 0);
    }

    [Theory]
    [InlineData("--without", "sci,magic")]
    [InlineData("--term-weights", "bn=-2")]
    [InlineData("--term-weights", "bn")]
    public void BadAblationValuesAreBadOptionsAndWriteNothing(string flag, string value)
    {
        var run = InProcessTool.Run("generate", RepoPaths.Model("resnet_fmnist.onnx"), "--out", _folder.Path, flag, value);
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith($"error {ErrorCodes.BadOption}: Invalid value '{value}' for option {flag}", run.Error);
        Assert.Empty(Directory.GetFileSystemEntries(_folder.Path));
    }

    [Theory]
    [InlineData("file")]
    [InlineData("under-file")]
    [InlineData("unwritable")]
    public void AnOutThatCannotHoldTheSamplesFailsBeforeGenerating(string kind)
    {
        string file = _folder.Write("samples.npy", "not a folder");
        string output = kind switch
        {
            "file" => file,
            "under-file" => Path.Combine(file, "sub"),
            _ => "/sys/dsg-generate-test", // sysfs refuses new files even to root
        };

        // dsg at the default budget would take minutes: a quick failure proves nothing ran.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = InProcessTool.Run("generate", RepoPaths.Model("resnet_fmnist.onnx"), "--out", output, "--json");

        Assert.Equal(1, run.ExitCode);
        var error = run.Line("error");
        Assert.Equal(ErrorCodes.GenerationOutputUnwritable, error.GetProperty("code").GetString());
        Assert.Contains("nothing was generated", error.GetProperty("hint").GetString());
        Assert.DoesNotContain(run.JsonLines, l => l.GetProperty("type").GetString() == "phase");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), clock.Elapsed.ToString());
        Assert.Equal(["samples.npy"], Directory.GetFileSystemEntries(_folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void DsgReportsGenerateProgressPerIteration()
    {
        var run = InProcessTool.Run("generate", RepoPaths.Model("resnet_fmnist.onnx"), "--out", _folder.Path,
            "--samples", "2", "--batch-size", "2", "--iterations", "10", "--threads", "2", "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        var progress = run.JsonLines.Last(l => l.GetProperty("type").GetString() == "progress");
        Assert.Equal("generate", progress.GetProperty("phase").GetString());
        Assert.Equal(10, progress.GetProperty("current").GetInt32());
        Assert.Equal(10, progress.GetProperty("total").GetInt32());
        Assert.Equal(new long[] { 2, 1, 28, 28 }, NpyFile.ReadFloat32(_folder.Combine("samples.npy")).Shape);
    }

    [Fact]
    public void CudaOnAMachineWithoutItIsACodedError()
    {
        var run = InProcessTool.Run("generate", RepoPaths.Model("resnet_fmnist.onnx"), "--out", _folder.Path, "--device", "cuda", "--samples", "2");
        if (TorchSharp.torch.cuda.is_available())
        {
            return; // On a CUDA machine the request is valid; this pins the message where CUDA is absent (CI).
        }

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith($"error {ErrorCodes.CudaUnavailable}:", run.Error);
        Assert.Empty(Directory.GetFileSystemEntries(_folder.Path));
    }
}
