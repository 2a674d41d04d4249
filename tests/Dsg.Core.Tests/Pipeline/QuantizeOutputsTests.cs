using Dsg.Core.Pipeline;

namespace Dsg.Core.Tests.Pipeline;

/// <summary>The pipeline's own publishing (library callers of QuantizePipeline.Run): all three files or none.</summary>
public sealed class QuantizeOutputsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsg-outputs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Output => Path.Combine(_dir, "m.onnx");

    private string Input => Path.Combine(_dir, "fp32.onnx");

    [Fact]
    public void The_model_and_both_reports_are_written()
    {
        var reports = QuantizeOutputs.Publish(Output, Input, [1, 2, 3], Report());

        Assert.Equal(new[] { Path.Combine(_dir, "m.report.json"), Path.Combine(_dir, "m.report.md") }, reports);
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(Output));
        Assert.Contains("\"agreement\": 0.97", File.ReadAllText(reports[0]));
        Assert.StartsWith("# Dsg quantization report: m.onnx", File.ReadAllText(reports[1]));
    }

    [Fact]
    public void A_report_that_cannot_be_written_keeps_the_previous_model()
    {
        File.WriteAllText(Output, "old model");
        Directory.CreateDirectory(Path.Combine(_dir, "m.report.md"));

        var e = Assert.Throws<DsgException>(() => QuantizeOutputs.Publish(Output, Input, [1, 2, 3], Report()));

        Assert.Equal(ErrorCodes.OutputUnwritable, e.Code);
        Assert.Equal(Output, e.FilePath);
        Assert.Equal("old model", File.ReadAllText(Output));
        Assert.False(File.Exists(Path.Combine(_dir, "m.report.json")));
        Assert.Equal(2, Directory.EnumerateFileSystemEntries(_dir).Count());
    }

    [Fact]
    public void The_input_reached_through_a_linked_folder_is_never_overwritten()
    {
        File.WriteAllText(Input, "fp32");
        Directory.CreateSymbolicLink(Path.Combine(_dir, "alias"), _dir);

        var e = Assert.Throws<DsgException>(() => QuantizeOutputs.Publish(Path.Combine(_dir, "alias", "fp32.onnx"), Input, [1, 2, 3], null));

        Assert.Equal(ErrorCodes.OutputUnwritable, e.Code);
        Assert.Contains("input model", e.Message);
        Assert.Equal("fp32", File.ReadAllText(Input));
    }

    [Fact]
    public void A_denied_permission_is_the_output_code_saying_so()
    {
        // sysfs refuses new files even to root, so this is a real EACCES wherever the suite runs.
        var e = Assert.Throws<DsgException>(() => QuantizeOutputs.Publish("/sys/dsg-test.onnx", Input, [1, 2, 3], null));

        Assert.Equal(ErrorCodes.OutputUnwritable, e.Code);
        Assert.Contains("permission denied", e.Message);
        Assert.False(File.Exists("/sys/dsg-test.onnx"));
    }

    private QuantizeReport Report() => new()
    {
        DsgVersion = "test",
        Model = Input,
        Output = Output,
        Precision = "W8A8",
        Options = new Dictionary<string, object>(),
        Source = "gaussian",
        SourceDescription = "test",
        CalibrationSamples = 4,
        HeldOutSamples = 4,
        Seed = 0,
        Seconds = new Dictionary<string, double>(),
        Agreement = 0.97,
        OutputSqnrDb = 30,
        FoldedBatchNorms = 0,
        Int32Biases = 0,
        Fp32Bytes = 10,
        QuantizedBytes = 3,
        Layers = [],
        Activations = [],
    };
}
