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
        Assert.True(first.Samples.ToArray().AsSpan().SequenceEqual(second.Samples.ToArray()), "two runs with the same seed differ");
        Assert.Equal(first.Diversity, second.Diversity);
    }

    [Fact]
    public void DiversityMetricsTellRealImagesFromNoise()
    {
        using var graph = TorchGraph.Create(OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx")));
        var (data, shape) = NpyFile.ReadFloat32(RepoPaths.Data("fmnist_test_64.npy"));
        using var scope = NewDisposeScope();
        var real = DiversityMetrics.Compute(graph, tensor(data, shape));
        var noise = SampleGenerator.Generate(graph, new GenerationOptions { Method = GenerationMethod.Gaussian, Samples = 64, Device = "cpu" }).Diversity!;
        // Real images differ from one another in brightness and shape, and the classifier's features tell them apart;
        // N(0, 1) images all look alike to the network.
        Assert.True(real.BatchNormSpread > 2 * noise.BatchNormSpread, $"spread real {real.BatchNormSpread} vs noise {noise.BatchNormSpread}");
        Assert.True(real.FeatureCosine < noise.FeatureCosine - 0.2, $"feature cosine real {real.FeatureCosine} vs noise {noise.FeatureCosine}");
        Assert.True(real.BatchNormGap < noise.BatchNormGap, $"gap real {real.BatchNormGap} vs noise {noise.BatchNormGap}");
        Assert.Equal(64, real.Samples);
    }

    [Fact]
    public void SamplesFollowADeclaredConventionAndStayInsideItsRange()
    {
        // resnet_fmnist taking inputs with mean 100 and std 50 (it normalises them itself), declared as such.
        var model = WithPreprocessing(OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx")), 100, 50);
        using var graph = TorchGraph.Create(model);
        var input = InputConventionInference.Resolve(model, new InputConventionDeclaration([100], [50]));
        Assert.Equal(InputConvention.Declared, input.Source);
        var options = new GenerationOptions { Samples = 16, BatchSize = 16, Iterations = 20, Seed = 3, Device = "cpu", Input = input };
        var free = SampleGenerator.Generate(graph, options);
        var (mean, std) = Moments(free.Samples.ToArray());
        // The input-statistics term holds each sample's mean and std near 100 and 50; the BN and class terms move them
        // (measured: mean 108-112, std about 51), far less than the 100 and 50 that separate them from N(0, 1).
        Assert.InRange(mean, 75, 125);
        Assert.InRange(std, 35, 65);
        Assert.Equal([100.0], free.Options.Input.Mean);
        Assert.Contains("\"input\": {", GenerationOutputWriter.ToJson(free));

        var bounded = SampleGenerator.Generate(graph, options with { Input = input with { Range = new InputRange(40, 160) } });
        Assert.All(bounded.Samples.ToArray(), v => Assert.InRange(v, 40f, 160f));
        Assert.Contains(bounded.Samples.ToArray(), v => v == 40f);
        var (boundedMean, _) = Moments(bounded.Samples.ToArray());
        Assert.InRange(boundedMean, 75, 125);
    }

    [Fact]
    public void ARawPixelModelInfersItsConventionAndStartsWhereItsNormalisedOriginalDoes()
    {
        // resnet_fmnist taking raw pixels p in [0, 255]: (p/255 - 0.2860)/0.3530 computed by Sub and Div nodes in
        // front, or folded into the first convolution's weights and bias.
        const double mean = 0.2860 * 255, std = 0.3530 * 255;
        var original = OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx"));
        var chained = WithPreprocessing(original, mean, std);
        var folded = WithFoldedPreprocessing(original, mean, std);
        foreach (var raw in new[] { chained, folded })
        {
            var inferred = InputConventionInference.Infer(raw);
            Assert.Equal(InputConvention.Inferred, inferred.Source);
            Assert.InRange(inferred.Mean[0], mean - (0.25 * std), mean + (0.25 * std));
            Assert.InRange(inferred.Std[0], 0.7 * std, 1.3 * std);
        }

        // Unsmoothed: the first pass then sees the convention's noise itself (smoothing shrinks its variance about 8-fold,
        // which narrows the gap this test measures to under 2x).
        var options = new GenerationOptions { Samples = 8, BatchSize = 8, Iterations = 1, Seed = 2, Device = "cpu", UseSlack = false, SmoothingSigma = 0 };
        double FirstBatchNormLoss(OnnxModel model, InputConvention input)
        {
            using var graph = TorchGraph.Create(model);
            return SampleGenerator.Generate(graph, options with { Input = input }).Curve("bn")!.Points[0].Value;
        }

        double normalised = FirstBatchNormLoss(original, InputConvention.Standard);
        double followed = FirstBatchNormLoss(folded, InputConventionInference.Infer(folded));
        double assumed = FirstBatchNormLoss(folded, InputConvention.Standard);
        // Measured: 57.7 on the original, 53.4 following the inferred convention, 169 assuming N(0, 1) (a black image).
        Assert.InRange(followed, 0.5 * normalised, 2 * normalised);
        Assert.True(assumed > 2 * followed, $"N(0, 1) on raw pixels: first BN loss {assumed} vs {followed} with the inferred convention");
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

            var d = dsg.Diversity!;
            var z = zeroq.Diversity!;
            Assert.True(d.PixelCosine < z.PixelCosine, $"{file}: pixel cosine dsg {d.PixelCosine} vs zeroq {z.PixelCosine}");
            // Measured on the trained assets (docs/generation.md): per-sample BN-statistic spread and penultimate-feature
            // cosine do NOT favour DSG over ZeroQ at this budget, so they are reported there, not asserted here.
        }
    }

    private static (double Mean, double Std) Moments(float[] values)
    {
        double mean = values.Average(v => (double)v);
        return (mean, Math.Sqrt(values.Average(v => (v - mean) * (v - mean))));
    }

    /// <summary>The model with Sub(mean) and Div(std) inserted between its input and the nodes that read it.</summary>
    private static OnnxModel WithPreprocessing(OnnxModel model, double mean, double std)
    {
        var proto = model.Proto.Clone();
        string input = proto.Graph.Input[0].Name;
        foreach (var node in proto.Graph.Node)
        {
            for (int i = 0; i < node.Input.Count; i++)
            {
                if (node.Input[i] == input)
                {
                    node.Input[i] = "normalised";
                }
            }
        }

        proto.Graph.Initializer.Add(OnnxTensor.FromFloats("pre_mean", [(float)mean]));
        proto.Graph.Initializer.Add(OnnxTensor.FromFloats("pre_std", [(float)std]));
        var sub = new Dsg.Core.Onnx.Proto.NodeProto { OpType = "Sub", Name = "pre_sub" };
        sub.Input.AddRange([input, "pre_mean"]);
        sub.Output.Add("centred");
        var div = new Dsg.Core.Onnx.Proto.NodeProto { OpType = "Div", Name = "pre_div" };
        div.Input.AddRange(["centred", "pre_std"]);
        div.Output.Add("normalised");
        proto.Graph.Node.Insert(0, div);
        proto.Graph.Node.Insert(0, sub);
        return OnnxModel.FromProto(proto, model.Directory, "chained " + model.DisplayName);
    }

    /// <summary>
    /// The model with (x − mean)/std folded into the convolution that reads its input: W' = W/std,
    /// b' = b − (mean/std)·Σ W (exact away from the borders, where the zero padding now stands for a raw 0).
    /// </summary>
    private static OnnxModel WithFoldedPreprocessing(OnnxModel model, double mean, double std)
    {
        var proto = model.Proto.Clone();
        var conv = proto.Graph.Node.First(n => n.OpType == "Conv" && n.Input[0] == proto.Graph.Input[0].Name);
        var weightProto = proto.Graph.Initializer.First(t => t.Name == conv.Input[1]);
        var weights = OnnxTensor.ToFloats(weightProto);
        long outputs = weightProto.Dims[0], perOutput = weights.Length / outputs;
        var bias = conv.Input.Count > 2 ? OnnxTensor.ToFloats(proto.Graph.Initializer.First(t => t.Name == conv.Input[2])) : new float[outputs];
        for (long o = 0; o < outputs; o++)
        {
            double sum = 0;
            for (long k = 0; k < perOutput; k++)
            {
                sum += weights[(o * perOutput) + k];
                weights[(o * perOutput) + k] = (float)(weights[(o * perOutput) + k] / std);
            }

            bias[o] = (float)(bias[o] - (mean / std * sum));
        }

        proto.Graph.Initializer.Remove(weightProto);
        proto.Graph.Initializer.Add(OnnxTensor.FromFloats("folded_w", weights, [.. weightProto.Dims]));
        proto.Graph.Initializer.Add(OnnxTensor.FromFloats("folded_b", bias, outputs));
        conv.Input[1] = "folded_w";
        if (conv.Input.Count > 2)
        {
            conv.Input[2] = "folded_b";
        }
        else
        {
            conv.Input.Add("folded_b");
        }

        return OnnxModel.FromProto(proto, model.Directory, "folded " + model.DisplayName);
    }
}
