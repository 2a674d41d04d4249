using Dsg.Core.Generation;
using Dsg.Core.Onnx;
using Dsg.Core.Pipeline;
using Dsg.Core.Tests.Graph;
using Dsg.Tests.Shared;

namespace Dsg.Core.Tests.Generation;

public sealed class GenerationBudgetTests
{
    private static int HeldOut(int samples) => QuantizeRequest.DefaultHeldOutSamples(samples);

    [Fact]
    public void ConvGemmAndMatMulAreCountedAtTheShapesOfOneSample()
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", null, 2, 8, 8).Output("y", null, 5);
        var random = new Random(1);
        // Conv 2→4, 3×3, stride 2, pad 1: 4×4×4 outputs × (2×3×3) products = 1,152.
        var conv = b.Node("Conv", ["x", b.RandomWeight("w", random, 1, 4, 2, 3, 3)], null,
            OnnxGraphBuilder.Ints("strides", 2, 2), OnnxGraphBuilder.Ints("pads", 1, 1, 1, 1));
        var flat = b.Node("Flatten", [conv]);
        // Gemm 64→6 with transB: 6 outputs × 64 = 384; MatMul 6→5: 5 × 6 = 30.
        var gemm = b.Node("Gemm", [flat, b.RandomWeight("g", random, 1, 6, 64)], null, OnnxGraphBuilder.Int("transB", 1));
        b.Node("MatMul", [gemm, b.RandomWeight("m", random, 1, 6, 5)], ["y"]);

        Assert.Equal(1_152 + 384 + 30, ModelCost.MultiplyAccumulatesPerSample(b.Build(), [2, 8, 8]));
    }

    [Fact]
    public void TheTestAssetsCostWhatTheirLayersSay()
    {
        // Stable per model and sample shape, so a budget chosen from it can enter a cache key.
        var resnet = OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx"));
        double first = ModelCost.MultiplyAccumulatesPerSample(resnet, [1, 28, 28]);
        Assert.Equal(first, ModelCost.MultiplyAccumulatesPerSample(resnet, [1, 28, 28]));
        Assert.InRange(first, 1e6, 1e9);
    }

    [Fact]
    public void ASmallModelGetsTheLevelsMostAndALargeOneFewerSamplesFirstThenFewerIterations()
    {
        var level = GenerationBudget.Default;
        var small = level.Resolve(20e6, null, null, HeldOut);
        Assert.Equal((256, 500), (small.Samples, small.Iterations));
        Assert.False(small.CutSamples || small.CutIterations);

        // A model whose full budget is four times the cap: samples are cut, the iterations kept.
        double macs = 4 * level.MaxGigaMacIterations * 1e9 / ((256 + 64) * 500.0);
        var medium = level.Resolve(macs, null, null, HeldOut);
        Assert.Equal(500, medium.Iterations);
        Assert.InRange(medium.Samples, level.MinSamples + 1, 255);
        Assert.True(medium.GigaMacIterations <= level.MaxGigaMacIterations);
        Assert.False(level.Resolve(macs, medium.Samples + 1, 500, HeldOut).GigaMacIterations <= level.MaxGigaMacIterations);

        // 1.8 GMAC a sample (ResNet-18 at 224): the fewest samples, and iterations cut to fit.
        var large = level.Resolve(1.8e9, null, null, HeldOut);
        Assert.Equal(level.MinSamples, large.Samples);
        Assert.InRange(large.Iterations, level.MinIterations, 499);
        Assert.True(large.GigaMacIterations <= level.MaxGigaMacIterations);
        Assert.True(1.8 * (large.Samples + HeldOut(large.Samples)) * (large.Iterations + 1) > level.MaxGigaMacIterations);
        Assert.Contains("cut from 256 × 500", large.Describe());
    }

    [Fact]
    public void GivenCountsAreKeptAndTheOtherIsChosenAroundThem()
    {
        var level = GenerationBudget.Default;
        var both = level.Resolve(1.8e9, 1024, 500, HeldOut);
        Assert.Equal((1024, 500), (both.Samples, both.Iterations));
        Assert.False(both.CutSamples || both.CutIterations);

        var samplesGiven = level.Resolve(1.8e9, 64, null, HeldOut);
        Assert.Equal(64, samplesGiven.Samples);
        Assert.True(samplesGiven.Iterations < 500);

        var iterationsGiven = level.Resolve(1.8e9, null, 10, HeldOut);
        Assert.Equal(10, iterationsGiven.Iterations);
        Assert.True(iterationsGiven.Samples > level.MinSamples);
    }

    [Fact]
    public void AModelTooLargeForTheLevelGetsItsFloorsAndNoCostMeansTheMost()
    {
        var huge = GenerationBudget.Fast.Resolve(1e12, null, null, HeldOut);
        Assert.Equal((GenerationBudget.Fast.MinSamples, GenerationBudget.Fast.MinIterations), (huge.Samples, huge.Iterations));
        var free = GenerationBudget.Thorough.Resolve(0, null, null, HeldOut);
        Assert.Equal((512, 1000), (free.Samples, free.Iterations));
    }

    [Fact]
    public void LevelsAreOrderedAndParsedByName()
    {
        Assert.Equal(["fast", "default", "thorough"], GenerationBudget.Names);
        Assert.Same(GenerationBudget.Thorough, GenerationBudget.Parse(" Thorough "));
        Assert.Null(GenerationBudget.Parse("quick"));
        for (int i = 1; i < GenerationBudget.Levels.Count; i++)
        {
            var (cheaper, dearer) = (GenerationBudget.Levels[i - 1], GenerationBudget.Levels[i]);
            Assert.True(cheaper.MaxGigaMacIterations < dearer.MaxGigaMacIterations);
            Assert.True(cheaper.MaxSamples <= dearer.MaxSamples && cheaper.MaxIterations <= dearer.MaxIterations);
        }
    }
}
