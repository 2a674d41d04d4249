using Dsg.Core.Generation;

namespace Dsg.Core.Tests.Generation;

public sealed class GenerationOptionsTests
{
    public static TheoryData<string, GenerationOptions> BadOptions() => new()
    {
        { "Samples", new GenerationOptions { Samples = 0 } },
        { "BatchSize", new GenerationOptions { BatchSize = 5000 } },
        { "Iterations", new GenerationOptions { Iterations = 0 } },
        { "Threads", new GenerationOptions { Threads = -1 } },
        { "LearningRate", new GenerationOptions { LearningRate = 0 } },
        { "LearningRate", new GenerationOptions { LearningRate = double.NaN } },
        { "PlateauFactor", new GenerationOptions { PlateauFactor = 1 } },
        { "MarginQuantile", new GenerationOptions { MarginQuantile = 1.5 } },
        { "EnhancementFactor", new GenerationOptions { EnhancementFactor = 0.5 } },
        { "CorrelationWeight", new GenerationOptions { CorrelationWeight = -1 } },
        { "CrossEntropyWeight", new GenerationOptions { CrossEntropyWeight = double.PositiveInfinity } },
        { "JitterPixels", new GenerationOptions { JitterPixels = 65 } },
        { "CanvasPixels", new GenerationOptions { CanvasPixels = -1 } },
        { "SmoothingSigma", new GenerationOptions { SmoothingSigma = 10.5 } },
        { "ProgressStride", new GenerationOptions { ProgressStride = 0 } },
        { "Device", new GenerationOptions { Device = "gpu" } },
        { "Method", new GenerationOptions { Method = (GenerationMethod)42 } },
        { "Optimizer", new GenerationOptions { Optimizer = (GenerationOptimizer)7 } },
        { "LearningRate", new GenerationOptions { LearningRate = 101 } },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void ABadValueIsRejectedWithTheOptionNameAndTheAllowedRange(string name, GenerationOptions options)
    {
        var e = Assert.Throws<DsgException>(() => options.Validate());
        Assert.Equal(ErrorCodes.BadOption, e.Code);
        Assert.Contains($"option {name} is", e.Message);
        Assert.Contains("must be", e.Message);
        Assert.Contains(name, e.Hint);
    }

    [Fact]
    public void DefaultsAreValidAndMatchThePaper()
    {
        var options = GenerationOptions.Default.Validate();
        Assert.Equal(GenerationMethod.Dsg, options.Method);
        Assert.Equal(256, options.Samples);
        Assert.Equal(64, options.BatchSize);
        Assert.Equal(500, options.Iterations);
        Assert.Equal(0.9, options.MarginQuantile);
        Assert.Equal(2.0, options.EnhancementFactor);
        Assert.Equal(4, options.Batches);
        Assert.Equal(3, (options with { Samples = 129 }).Batches);
    }

    [Fact]
    public void CudaIsResolvedOnlyWhenTorchSharpReportsIt()
    {
        bool available = TorchSharp.torch.cuda.is_available();
        Assert.Equal("cpu", SampleGenerator.ResolveDevice("cpu"));
        Assert.Equal(available ? "cuda" : "cpu", SampleGenerator.ResolveDevice("auto"));
        if (available)
        {
            Assert.Equal("cuda", SampleGenerator.ResolveDevice("cuda"));
        }
        else
        {
            var e = Assert.Throws<DsgException>(() => SampleGenerator.ResolveDevice("cuda"));
            Assert.Equal(ErrorCodes.CudaUnavailable, e.Code);
            Assert.Contains("--device cpu", e.Hint);
        }
    }
}
