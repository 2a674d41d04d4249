using Dsg.Core;
using Dsg.Core.Onnx;
using Dsg.Core.Quantization;
using Dsg.Tests.Shared;

namespace Dsg.Tool.Tests.Commands;

/// <summary>
/// Issue 13: the quantized model records which fp32 file it came from (metadata_props), and eval warns (DSG0712) when
/// the quantized model given was not quantized from the fp32 model given.
/// </summary>
public sealed class EvalProvenanceTests : IDisposable
{
    private static readonly string s_resnet = RepoPaths.Model("resnet_fmnist.onnx");
    private static readonly string s_mobilenet = RepoPaths.Model("mobilenetv2_fmnist.onnx");
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Quantize()
    {
        var output = _folder.Combine("resnet.int8.onnx");
        var run = InProcessTool.Run("quantize", s_resnet, "--out", output, "--no-cache", "--method", "gaussian", "--samples", "4", "--held-out-samples", "2", "--batch-size", "4");
        Assert.True(run.ExitCode == 0, run.ToString());
        return output;
    }

    [Fact]
    public void TheQuantizedModelRecordsTheSha256AndNameOfItsSource()
    {
        var quantized = OnnxModel.Load(Quantize());

        var source = QuantizationMetadata.SourceOf(quantized.Proto);

        Assert.NotNull(source);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(s_resnet))), source.Value.Sha256);
        Assert.Equal("resnet_fmnist.onnx", source.Value.FileName);
    }

    [Fact]
    public void EvalOfAPairThatBelongsTogetherWarnsNothingAndOfAnUnrelatedPairWarnsDsg0712()
    {
        var quantized = Quantize();

        var together = InProcessTool.Run("eval", s_resnet, quantized, "--samples", "8", "--json");
        Assert.True(together.ExitCode == 0, together.ToString());
        Assert.Equal("matches", together.Line("eval").GetProperty("source").GetProperty("status").GetString());
        Assert.Empty(together.Line("eval").GetProperty("warnings").EnumerateArray());

        // A copy under another name is the same model: the hash decides, not the name.
        var copy = _folder.Combine("renamed.onnx");
        File.Copy(s_resnet, copy);
        var renamed = InProcessTool.Run("eval", copy, quantized, "--samples", "8");
        Assert.True(renamed.ExitCode == 0, renamed.ToString());
        Assert.DoesNotContain("DSG0712", renamed.Error);
        Assert.Contains("Source        quantized from this fp32 model", renamed.Output);

        var unrelated = InProcessTool.Run("eval", s_mobilenet, quantized, "--samples", "8");
        Assert.True(unrelated.ExitCode == 0, unrelated.ToString());
        Assert.Contains($"warning {ErrorCodes.NotQuantizedFromReference}: ", unrelated.Error);
        Assert.Contains("was quantized from 'resnet_fmnist.onnx'", unrelated.Error);
        Assert.Contains("Source        NOT quantized from this fp32 model", unrelated.Output);

        var json = InProcessTool.Run("eval", s_mobilenet, quantized, "--samples", "8", "--json").Line("eval");
        Assert.Equal("differs", json.GetProperty("source").GetProperty("status").GetString());
        Assert.Equal(ErrorCodes.NotQuantizedFromReference, json.GetProperty("warnings")[0].GetProperty("code").GetString());
    }

    [Fact]
    public void AQuantizedModelWithoutARecordIsSaidToBeUnchecked()
    {
        var run = InProcessTool.Run("eval", s_resnet, s_resnet, "--samples", "8");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Source        not recorded", run.Output);
        Assert.DoesNotContain("DSG0712", run.Error);
    }
}
