using Dsg.Core.Data;
using Dsg.Core.Generation;
using Dsg.Core.Graph;
using Dsg.Core.Onnx;
using Dsg.Tests.Shared;
using static TorchSharp.torch;

namespace Dsg.Core.Tests.Generation;

/// <summary>Generation through the real executor on the test-asset models.</summary>
public sealed class GenerationOnTestAssetsTests
{
    [Fact]
    public void TheSameSeedGivesIdenticalBytesThroughTheExecutor()
    {
        using var graph = TorchGraph.Create(OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx")));
        var options = new GenerationOptions { Samples = 3, BatchSize = 2, Iterations = 3, Seed = 5, Device = "cpu" };
        var first = SampleGenerator.Generate(graph, options);
        var second = SampleGenerator.Generate(graph, options);
        Assert.Equal(new long[] { 3, 1, 28, 28 }, first.Shape);
        Assert.True(first.Samples.AsSpan().SequenceEqual(second.Samples), "two runs with the same seed differ");
        Assert.Equal(first.Diversity, second.Diversity);
    }

    [Fact]
    public void DiversityMetricsTellRealImagesFromNoise()
    {
        using var graph = TorchGraph.Create(OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx")));
        var (data, shape) = NpyFile.ReadFloat32(RepoPaths.Data("fmnist_test_64.npy"));
        using var scope = NewDisposeScope();
        var real = DiversityMetrics.Compute(graph, tensor(data, shape));
        var noise = SampleGenerator.Generate(graph, new GenerationOptions { Method = GenerationMethod.Gaussian, Samples = 64, Device = "cpu" }).Diversity;
        // Real images differ from one another in brightness and shape, and the classifier's features tell them apart;
        // N(0, 1) images all look alike to the network.
        Assert.True(real.BatchNormSpread > 2 * noise.BatchNormSpread, $"spread real {real.BatchNormSpread} vs noise {noise.BatchNormSpread}");
        Assert.True(real.FeatureCosine < noise.FeatureCosine - 0.2, $"feature cosine real {real.FeatureCosine} vs noise {noise.FeatureCosine}");
        Assert.True(real.BatchNormGap < noise.BatchNormGap, $"gap real {real.BatchNormGap} vs noise {noise.BatchNormGap}");
        Assert.Equal(64, real.Samples);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void OnBothModelsTheBatchNormLossFallsNinetyPercentAndDsgSamplesAreLessCorrelatedInPixelsThanZeroQ()
    {
        foreach (var file in new[] { "resnet_fmnist.onnx", "mobilenetv2_fmnist.onnx" })
        {
            using var graph = TorchGraph.Create(OnnxModel.Load(RepoPaths.Model(file)));
            var options = new GenerationOptions { Samples = 32, BatchSize = 32, Iterations = 100, Seed = 1, Device = "cpu" };
            var dsg = SampleGenerator.Generate(graph, options);
            var zeroq = SampleGenerator.Generate(graph, options with { Method = GenerationMethod.ZeroQ });
            foreach (var result in new[] { dsg, zeroq })
            {
                var bn = result.Curve("bn")!.ForBatch(1).ToArray();
                Assert.Equal(0, bn[0].Iteration);
                Assert.Equal(options.Iterations - 1, bn[^1].Iteration);
                Assert.True(bn[^1].Value <= 0.1 * bn[0].Value,
                    $"{file} {result.Options.Method}: the BN loss went from {bn[0].Value} to {bn[^1].Value}");
            }

            var d = dsg.Diversity;
            var z = zeroq.Diversity;
            Assert.True(d.PixelCosine < z.PixelCosine, $"{file}: pixel cosine dsg {d.PixelCosine} vs zeroq {z.PixelCosine}");
            // Measured on the trained assets (docs/generation.md): per-sample BN-statistic spread and penultimate-feature
            // cosine do NOT favour DSG over ZeroQ at this budget, so they are reported there, not asserted here.
        }
    }
}
