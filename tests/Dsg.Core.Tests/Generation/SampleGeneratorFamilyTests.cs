using Dsg.Core.Generation;
using Dsg.Core.Graph;
using Dsg.Core.Onnx;
using Dsg.Tests.Shared;

namespace Dsg.Core.Tests.Generation;

/// <summary>Generation on the evaluation family's nets (testassets/family), which the defaults were not tuned on.</summary>
public sealed class SampleGeneratorFamilyTests
{
    [Fact]
    public void AWideResNetGivesFiniteLossesOnAFullBatchOfNoise()
    {
        // With oneDNN's forward kernels on this machine's libtorch, the first iteration's class scores and BatchNorm
        // inputs were NaN for this net at batch 64 (DSG0602 "bn = NaN, ce = NaN"); the native kernels give finite ones.
        var model = OnnxModel.Load(Path.Combine(RepoPaths.TestAssets, "family", "tune_resnet14_wide.onnx"));
        using var graph = TorchGraph.CreateForGeneration(model, new TorchGraphOptions([1, 28, 28]));
        var options = GenerationOptions.Default with { Samples = 64, BatchSize = 64, Iterations = 2, Device = "cpu", MeasureDiversity = false };
        using var result = SampleGenerator.Generate(graph, options);
        Assert.All(result.Samples.ToArray(), value => Assert.True(float.IsFinite(value)));
    }
}
