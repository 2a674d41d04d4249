using Dsg.Tests.Shared;

namespace Dsg.Tool.Tests.Commands;

public sealed class InspectVerifyTests
{
    [Fact]
    public void VerifyPrintsEachOutputsDifferenceAndJsonCarriesTheNumbers()
    {
        var text = InProcessTool.Run("inspect", RepoPaths.Model("resnet_fmnist.onnx"), "--verify", "--batch-size", "4");
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("Verify        TorchSharp vs ONNX Runtime, batch 4, seed 0", text.Output);
        Assert.Matches(@"logits\s+max \|diff\| \d", text.Output);

        var json = InProcessTool.Run("inspect", RepoPaths.Model("resnet_fmnist.onnx"), "--verify", "--batch-size", "4", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var verify = Assert.Single(json.JsonLines).GetProperty("verify");
        Assert.Equal(4, verify.GetProperty("batchSize").GetInt32());
        var output = Assert.Single(verify.GetProperty("outputs").EnumerateArray());
        Assert.Equal("logits", output.GetProperty("name").GetString());
        Assert.InRange(output.GetProperty("maxAbsDifference").GetDouble(), 0, 1e-3);
        Assert.Equal(output.GetProperty("maxAbsDifference").GetDouble(), verify.GetProperty("maxAbsDifference").GetDouble());
    }

    [Fact]
    public void WithoutVerifyNothingIsRun()
    {
        var json = InProcessTool.Run("inspect", RepoPaths.Model("resnet_fmnist.onnx"), "--json");
        Assert.False(Assert.Single(json.JsonLines).TryGetProperty("verify", out _));
    }
}
