using Dsg.Core.Data;
using Dsg.Core.Evaluation;
using Dsg.Core.Onnx;
using Dsg.Core.Quantization;
using Dsg.Core.Tests.Graph;

namespace Dsg.Core.Tests.Evaluation;

/// <summary>The agreement metrics, and the verifier measuring an embedding model by cosine similarity.</summary>
public sealed class QuantizationVerifierTests
{
    private static CalibrationSet Noise(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count * 64];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return new CalibrationSet(values, [count, 1, 8, 8]);
    }

    /// <summary>A quantization result whose "quantized" model is <paramref name="candidate"/> and that quantizes no activation.</summary>
    private static QuantizationResult Result(OnnxModel folded, OnnxModel candidate) =>
        new(folded, 0, QuantizationPlanner.Plan(folded, new QuantizationOptions()), [], new QdqModel(candidate, [], [], 0));

    /// <summary>A copy of <paramref name="model"/> with the second convolution's weights of output channel 0 negated.</summary>
    private static OnnxModel Perturbed(OnnxModel model)
    {
        var proto = model.Proto.Clone();
        var weights = proto.Graph.Initializer.Single(t => t.Name == "w2");
        var values = OnnxTensor.ToFloats(weights, model);
        for (int i = 0; i < 4 * 3 * 3; i++)
        {
            values[i] = -values[i];
        }

        proto.Graph.Initializer.Remove(weights);
        proto.Graph.Initializer.Add(OnnxTensor.FromFloats("w2", values, [.. weights.Dims]));
        return OnnxModel.FromProto(proto, null, "perturbed.onnx");
    }

    [Fact]
    public void CosineSimilarityIsOneForTheSameDirectionAndFallsAsTheOutputTurns()
    {
        float[] a = [1, 2, 3, 0, 0, 4];
        Assert.Equal(2, AgreementMetrics.Sum(AgreementMetric.Cosine, a, a, 2), 12);
        Assert.Equal(2, AgreementMetrics.Sum(AgreementMetric.Cosine, a, a.Select(v => v * 3).ToArray(), 2), 12);
        float[] turned = [1, 2, 3, 0, 4, 0];
        Assert.Equal(1, AgreementMetrics.Sum(AgreementMetric.Cosine, a, turned, 2), 12); // sample 1 is orthogonal
        Assert.Equal(-1, AgreementMetrics.CosineSimilarity([1, 1], [-1, -1]), 12);
        Assert.Equal(1, AgreementMetrics.CosineSimilarity([0, 0], [0, 0]));
        Assert.Equal(0, AgreementMetrics.CosineSimilarity([0, 0], [1, 0]));
        // Top-1 on the same pairs: sample 0 agrees, sample 1 (argmax 2 vs 1) does not.
        Assert.Equal(1, AgreementMetrics.Sum(AgreementMetric.TopOne, a, turned, 2));
        Assert.Equal("cosine", AgreementMetrics.Name(AgreementMetric.Cosine));
        Assert.Equal(AgreementMetric.TopOne, AgreementMetrics.Parse("top-1"));
    }

    [Fact]
    public void TheVerifierGivesCosineOneForIdenticalOutputsAndLessForAPerturbedModel()
    {
        var model = TestModels.EmbeddingCnn();
        var (folded, _) = BatchNormFolder.Fold(model);
        var (perturbedFolded, _) = BatchNormFolder.Fold(Perturbed(model));
        var samples = Noise(16, 5);

        var same = QuantizationVerifier.Verify(Result(folded, folded), samples, AgreementMetric.Cosine);
        Assert.Equal(AgreementMetric.Cosine, same.Metric);
        Assert.Equal(1.0, same.Agreement, 6);
        Assert.True(double.IsPositiveInfinity(same.OutputSqnrDb));

        var perturbed = QuantizationVerifier.Verify(Result(folded, perturbedFolded), samples, AgreementMetric.Cosine);
        Assert.InRange(perturbed.Agreement, -1, 0.999);
        Assert.True(double.IsFinite(perturbed.OutputSqnrDb));
    }

    [Fact]
    public void OnAQuantizedEmbeddingModelCosineIsHighAtEightBitsAndLowerAtTwo()
    {
        var model = TestModels.EmbeddingCnn();
        var calibration = Noise(32, 1);
        var heldOut = Noise(16, 2);
        var w8 = QuantizationVerifier.Verify(ModelQuantizer.Quantize(model, calibration, QuantizationOptions.FromPrecision("W8A8")), heldOut, AgreementMetric.Cosine);
        var w2 = QuantizationVerifier.Verify(ModelQuantizer.Quantize(model, calibration,
            QuantizationOptions.FromPrecision("W2A2") with { Recipe = QuantizationRecipe.Paper }), heldOut, AgreementMetric.Cosine);

        Assert.InRange(w8.Agreement, 0.99, 1.0);
        Assert.True(w2.Agreement < w8.Agreement, $"W2A2 {w2.Agreement} vs W8A8 {w8.Agreement}");
        Assert.True(w2.OutputSqnrDb < w8.OutputSqnrDb);
    }
}
