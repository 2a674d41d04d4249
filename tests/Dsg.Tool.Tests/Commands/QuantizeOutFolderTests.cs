using Dsg.Core;
using Dsg.Tests.Shared;
using Dsg.Tool.Running;

namespace Dsg.Tool.Tests.Commands;

/// <summary>Issue 13: a failed or cancelled quantize leaves no --out folder it created behind, and no file in it.</summary>
public sealed class QuantizeOutFolderTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private ToolRun Quantize(string output, QuantizeProducer producer, CancellationToken cancellationToken = default) =>
        InProcessTool.Run(["quantize", RepoPaths.Model("tiny_cnn.onnx"), "--out", output, "--json", "--cache-dir", _folder.Combine("cache")],
            cancellationToken: cancellationToken, quantizeProducer: producer);

    [Fact]
    public void AFailedRunRemovesTheFoldersItCreated()
    {
        var output = _folder.Combine("new", "nested", "m.onnx");

        var run = Quantize(output, (_, _) => throw new DsgException(ErrorCodes.GenerationDiverged, "diverged", "try again"));

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.False(Directory.Exists(_folder.Combine("new")), "the --out folder the run created is gone");
    }

    [Fact]
    public void ACancelledRunRemovesTheFoldersItCreated()
    {
        var output = _folder.Combine("cancelled", "m.onnx");
        using var cancellation = new CancellationTokenSource();

        var run = Quantize(output, async (job, token) =>
        {
            await File.WriteAllTextAsync(Path.Combine(job.Directory, "model.onnx"), "partial", token);
            await cancellation.CancelAsync();
            token.ThrowIfCancellationRequested();
            return new QuantizeProduct(1.0);
        }, cancellation.Token);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(ErrorCodes.Cancelled, run.Output + run.Error);
        Assert.False(Directory.Exists(_folder.Combine("cancelled")));
    }

    [Fact]
    public void AFolderThatExistedOrThatSomethingElseWroteIntoIsKept()
    {
        Directory.CreateDirectory(_folder.Combine("existing"));
        var failing = (QuantizeProducer)((_, _) => throw new DsgException(ErrorCodes.GenerationDiverged, "diverged", "try again"));
        Quantize(_folder.Combine("existing", "m.onnx"), failing);
        Assert.True(Directory.Exists(_folder.Combine("existing")));

        // Another process puts a file in the folder this run created: the folder stays.
        var output = _folder.Combine("shared", "m.onnx");
        Quantize(output, (_, _) =>
        {
            File.WriteAllText(_folder.Combine("shared", "other.txt"), "someone else's");
            throw new DsgException(ErrorCodes.GenerationDiverged, "diverged", "try again");
        });
        Assert.Equal("someone else's", File.ReadAllText(_folder.Combine("shared", "other.txt")));
    }
}
