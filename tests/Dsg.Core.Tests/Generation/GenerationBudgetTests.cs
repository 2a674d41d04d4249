using Dsg.Core.Generation;
using Dsg.Core.Onnx;
using Dsg.Core.Pipeline;
using Dsg.Core.Tests.Graph;
using Dsg.Tests.Shared;

namespace Dsg.Core.Tests.Generation;

public sealed class GenerationBudgetTests
{
    private static int HeldOut(int samples) => QuantizeRequest.DefaultHeldOutSamples(samples);

    /// <summary>A model whose generation step takes <paramref name="seconds"/> a sample on the reference machine (all in activation values).</summary>
    private static ModelCost Costing(double seconds) => new(0, seconds / ModelCost.SecondsPerValue);

    [Fact]
    public void ArithmeticAndActivationsAreCountedAtTheShapesOfOneSample()
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", null, 2, 8, 8).Output("y", null, 5);
        var random = new Random(1);
        // Conv 2→4, 3×3, stride 2, pad 1: 4×4×4 outputs × (2×3×3) products = 1,152.
        var conv = b.Node("Conv", ["x", b.RandomWeight("w", random, 1, 4, 2, 3, 3)], null,
            OnnxGraphBuilder.Ints("strides", 2, 2), OnnxGraphBuilder.Ints("pads", 1, 1, 1, 1));
        var relu = b.Node("Relu", [conv]);
        // A shape computation is no activation; Reshape is not counted either (it only views its input).
        var shape = b.Node("Shape", [relu]);
        var flat = b.Node("Flatten", [relu]);
        // Gemm 64→6 with transB: 6 outputs × 64 = 384; MatMul 6→5: 5 × 6 = 30.
        var gemm = b.Node("Gemm", [flat, b.RandomWeight("g", random, 1, 6, 64)], null, OnnxGraphBuilder.Int("transB", 1));
        var scaled = b.Node("Mul", [gemm, b.Weight("two", [2.0], 1)]);
        b.Node("MatMul", [scaled, b.RandomWeight("m", random, 1, 6, 5)], ["y"]);
        _ = shape;

        var cost = ModelCost.Measure(b.Build(), [2, 8, 8]);

        Assert.Equal(1_152 + 384 + 30, cost.MultiplyAccumulates);
        // Conv 64 + Relu 64 + Gemm 6 + Mul 6 + MatMul 5.
        Assert.Equal(64 + 64 + 6 + 6 + 5, cost.ActivationValues);
        Assert.Equal((cost.MultiplyAccumulates * ModelCost.SecondsPerMultiplyAccumulate) + (cost.ActivationValues * ModelCost.SecondsPerValue), cost.SecondsPerSampleStep);
    }

    [Theory]
    [InlineData("resnet_fmnist.onnx", 256)]
    [InlineData("mobilenetv2_fmnist.onnx", 224)]
    public void TheTestAssetsCostTheSameEachTimeAndKeepMostOfTheDefaultBudget(string name, int leastSamples)
    {
        // Stable per model and sample shape, so a budget chosen from it can enter a cache key; and the default level
        // keeps all 500 iterations on both 28×28 assets and (nearly) all 256 samples (docs/configuration.md).
        var model = OnnxModel.Load(RepoPaths.Model(name));
        var cost = ModelCost.Measure(model, [1, 28, 28]);
        Assert.Equal(cost, ModelCost.Measure(model, [1, 28, 28]));
        Assert.InRange(cost.MultiplyAccumulates, 1e6, 1e9);
        var choice = GenerationBudget.Default.Resolve(cost, null, null, HeldOut);
        Assert.Equal(500, choice.Iterations);
        Assert.InRange(choice.Samples, leastSamples, 256);
    }

    [Fact]
    public void ASmallModelGetsTheLevelsMostAndALargeOneFewerSamplesFirstThenFewerIterations()
    {
        var level = GenerationBudget.Default;
        var small = level.Resolve(Costing(1e-3), null, null, HeldOut);
        Assert.Equal((256, 500), (small.Samples, small.Iterations));
        Assert.False(small.CutSamples || small.CutIterations);

        // A model whose full budget is four times the cap: samples are cut, the iterations kept.
        var medium = level.Resolve(Costing(4 * level.MaxSeconds / ((256 + 64) * 500.0)), null, null, HeldOut);
        Assert.Equal(500, medium.Iterations);
        Assert.InRange(medium.Samples, level.MinSamples + 1, 255);
        Assert.True(medium.EstimatedSeconds <= level.MaxSeconds);
        Assert.False(level.Resolve(medium.Cost, medium.Samples + 1, 500, HeldOut).EstimatedSeconds <= level.MaxSeconds);

        // A model at 0.2 s a sample step: the fewest samples, and iterations cut to fit.
        var large = level.Resolve(Costing(0.2), null, null, HeldOut);
        Assert.Equal(level.MinSamples, large.Samples);
        Assert.InRange(large.Iterations, level.MinIterations, 499);
        Assert.True(large.EstimatedSeconds <= level.MaxSeconds);
        Assert.True(0.2 * (large.Samples + HeldOut(large.Samples)) * (large.Iterations + 1) > level.MaxSeconds);
        Assert.Contains("cut from 256 × 500", large.Describe());
    }

    [Fact]
    public void GivenCountsAreKeptAndTheOtherIsChosenAroundThem()
    {
        var level = GenerationBudget.Default;
        var cost = Costing(0.2);
        var both = level.Resolve(cost, 1024, 500, HeldOut);
        Assert.Equal((1024, 500), (both.Samples, both.Iterations));
        Assert.False(both.CutSamples || both.CutIterations);

        var samplesGiven = level.Resolve(cost, 64, null, HeldOut);
        Assert.Equal(64, samplesGiven.Samples);
        Assert.True(samplesGiven.Iterations < 500);

        var iterationsGiven = level.Resolve(cost, null, 10, HeldOut);
        Assert.Equal(10, iterationsGiven.Iterations);
        Assert.True(iterationsGiven.Samples > level.MinSamples);
    }

    [Fact]
    public void AModelTooLargeForTheLevelGetsItsFloorsAndNoCostMeansTheMost()
    {
        var huge = GenerationBudget.Fast.Resolve(Costing(1e3), null, null, HeldOut);
        Assert.Equal((GenerationBudget.Fast.MinSamples, GenerationBudget.Fast.MinIterations), (huge.Samples, huge.Iterations));
        var free = GenerationBudget.Thorough.Resolve(ModelCost.Free, null, null, HeldOut);
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
            Assert.True(cheaper.MaxSeconds < dearer.MaxSeconds);
            Assert.True(cheaper.MaxSamples <= dearer.MaxSamples && cheaper.MaxIterations <= dearer.MaxIterations);
        }
    }
}
