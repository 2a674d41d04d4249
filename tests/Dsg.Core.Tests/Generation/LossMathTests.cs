using Dsg.Core.Generation;
using Dsg.Core.Generation.Losses;
using Dsg.Core.Graph;
using static TorchSharp.torch;

namespace Dsg.Core.Tests.Generation;

/// <summary>The loss terms on tiny hand-made tensors, against values worked out by hand.</summary>
public sealed class LossMathTests
{
    private static readonly double s_tinyStd = Math.Sqrt(1e-6); // σ̃ of a constant channel: sqrt(0 + 1e-6)

    private static double Sq(double v) => v * v;

    private static double Excess(double gap, double margin) => Sq(Math.Max(Math.Abs(gap) - margin, 0));

    /// <summary>
    /// N=2, C=2, H=1, W=2. Sample 0: channel 0 = [1, 3] (μ̃ 2, σ̃ sqrt(1+1e-6)), channel 1 = [0, 0] (μ̃ 0, σ̃ 0.001).
    /// Sample 1: channel 0 = [-1, -1] (μ̃ -1, σ̃ 0.001), channel 1 = [2, 6] (μ̃ 4, σ̃ sqrt(4+1e-6)).
    /// </summary>
    private static Tensor HandBatch() => tensor(new float[] { 1, 3, 0, 0, -1, -1, 2, 6 }, [2, 2, 1, 2]);

    private static readonly float[] s_mu = [1f, 2f];
    private static readonly float[] s_sigma = [1f, 3f];

    [Fact]
    public void SdaAndTheWholeBatchTermShareOnePassOfMomentsWithTheSameValuesAndGradients()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(21);
        var source = randn([4, 3, 5, 5], generator: generator).Times(1.5).Plus(0.5);
        using var target = new BatchNormTarget("bn", tensor(new float[] { 0.2f, -0.1f, 0.4f }), tensor(new float[] { 1.2f, 0.8f, 1.0f }));
        var margins = BatchNormMargins.Zero(1);

        // Separately: each term reads the activation itself.
        var reference = source.detach().clone().requires_grad_(true);
        var expected = SlackDistributionAlignment.PerSampleLayerLoss([ActivationStatistics.Moments(reference)], [target], margins).sum()
            .Plus(BatchStatisticsAlignment.Loss([ActivationStatistics.Moments(reference)], [target]));
        expected.backward();

        // Through one context: the moments are computed once and both terms read them.
        var input = source.detach().clone().requires_grad_(true);
        var context = new LossContext
        {
            Images = input,
            ModelInput = input,
            Pass = Passes.FromActivations(zeros(4, 2), [input], null),
            Targets = [target],
            Generator = generator,
        };
        Assert.Same(context.BatchNormMoments, context.BatchNormMoments);
        var sda = new SlackDistributionAlignment(1.0, margins, null).Compute(context).Times(4L);
        var pooled = new BatchStatisticsAlignment(1.0, "bn-batch").Compute(context);
        sda.Plus(pooled).backward();

        Assert.Equal(expected.item<float>(), sda.Plus(pooled).item<float>(), 4);
        Assert.True(input.grad!.allclose(reference.grad!, rtol: 1e-4, atol: 1e-6));
    }

    [Fact]
    public void PerSampleStatisticsArePopulationMeanAndStdOverHeightAndWidth()
    {
        using var scope = NewDisposeScope();
        var (mean, std) = ActivationStatistics.PerSample(HandBatch());
        Assert.Equal(new[] { 2f, 0f, -1f, 4f }, mean.data<float>().ToArray());
        var expectedStd = new[] { Math.Sqrt(1 + 1e-6), s_tinyStd, s_tinyStd, Math.Sqrt(4 + 1e-6) };
        var actual = std.data<float>().ToArray();
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(expectedStd[i], actual[i], 6);
        }
    }

    [Fact]
    public void WithZeroMarginsAndNoEnhancementSdaIsExactPerSampleAlignment()
    {
        using var scope = NewDisposeScope();
        using var model = new IdentityModel(s_mu, s_sigma);
        double sample0 = Sq(2 - 1) + Sq(0 - 2) + Sq(Math.Sqrt(1 + 1e-6) - 1) + Sq(s_tinyStd - 3);
        double sample1 = Sq(-1 - 1) + Sq(4 - 2) + Sq(s_tinyStd - 1) + Sq(Math.Sqrt(4 + 1e-6) - 3);

        // ε = 0 gives zero margins.
        var margins = BatchNormMargins.Compute(model, randn(8, 2, 1, 2), quantile: 0);
        Assert.Equal(new double[] { 0 }, margins.Mean);
        Assert.Equal(new double[] { 0 }, margins.Std);

        var term = new SlackDistributionAlignment(1.0, margins, enhancement: null);
        var value = term.Compute(Context(model, HandBatch())).item<float>();
        Assert.Equal((sample0 + sample1) / 2, value, 4);

        var matrix = SlackDistributionAlignment.PerSampleLayerLoss([ActivationStatistics.Moments(HandBatch())], model.BatchNorms, margins).data<float>().ToArray();
        Assert.Equal(sample0, matrix[0], 4);
        Assert.Equal(sample1, matrix[1], 4);
    }

    [Fact]
    public void SdaOnlyPenalisesTheGapBeyondTheMargins()
    {
        using var scope = NewDisposeScope();
        using var model = new IdentityModel(s_mu, s_sigma);
        var margins = new BatchNormMargins([1.5], [0.5]);
        double sample0 = Excess(2 - 1, 1.5) + Excess(0 - 2, 1.5) + Excess(Math.Sqrt(1 + 1e-6) - 1, 0.5) + Excess(s_tinyStd - 3, 0.5);
        double sample1 = Excess(-1 - 1, 1.5) + Excess(4 - 2, 1.5) + Excess(s_tinyStd - 1, 0.5) + Excess(Math.Sqrt(4 + 1e-6) - 3, 0.5);
        // By hand: sample 0 = 0 + 0.25 + 0 + 2.499² ; sample 1 = 0.25 + 0.25 + 0.499² + (0.99999975 - 0.5)².
        Assert.Equal(0.25 + Sq(2.499), sample0, 5);
        var value = new SlackDistributionAlignment(1.0, margins, null).Compute(Context(model, HandBatch())).item<float>();
        Assert.Equal((sample0 + sample1) / 2, value, 4);
    }

    [Fact]
    public void LayerwiseEnhancementWeightsLayerNModLForSampleN()
    {
        using var scope = NewDisposeScope();
        var lse = new LayerwiseSampleEnhancement(2.0);
        var w = lse.Weights(samples: 5, layers: 3, firstSampleIndex: 0, CPU).data<float>().ToArray();
        Assert.Equal(new float[]
        {
            2, 1, 1, // n=0 -> layer 0
            1, 2, 1, // n=1 -> layer 1
            1, 1, 2, // n=2 -> layer 2
            2, 1, 1, // n=3 -> layer 0
            1, 2, 1, // n=4 -> layer 1
        }, w);

        // The second batch of 4 samples starts at global sample 4: 4 mod 3 = 1.
        var next = lse.Weights(samples: 2, layers: 3, firstSampleIndex: 4, CPU).data<float>().ToArray();
        Assert.Equal(new float[] { 1, 2, 1, 1, 1, 2 }, next);
    }

    [Fact]
    public void SdaWithEnhancementWeighsEachSampleLayerPairAsThePaperDoes()
    {
        using var scope = NewDisposeScope();
        using var layer0 = new BatchNormTarget("a", tensor(s_mu), tensor(s_sigma));
        using var layer1 = new BatchNormTarget("b", tensor(new float[] { 0, 0 }), tensor(new float[] { 1, 1 }));
        var zero = BatchNormMargins.Zero(2);
        var m = SlackDistributionAlignment.PerSampleLayerLoss([ActivationStatistics.Moments(HandBatch()), ActivationStatistics.Moments(HandBatch())], [layer0, layer1], zero).data<float>().ToArray();
        // Layer 1 by hand: sample 0 = 2² + 0² + (sqrt(1+1e-6)-1)² + (0.001-1)²; sample 1 = 1² + 4² + (0.001-1)² + (sqrt(4+1e-6)-1)².
        Assert.Equal(Sq(2) + Sq(Math.Sqrt(1 + 1e-6) - 1) + Sq(s_tinyStd - 1), m[1], 4);
        Assert.Equal(Sq(-1) + Sq(4) + Sq(s_tinyStd - 1) + Sq(Math.Sqrt(4 + 1e-6) - 1), m[3], 4);

        var context = new LossContext
        {
            Images = HandBatch(),
            ModelInput = HandBatch(),
            Pass = Passes.FromActivations(zeros(2, 2), [HandBatch(), HandBatch()], null),
            Targets = [layer0, layer1],
            Generator = new Generator(1),
            FirstSampleIndex = 0,
        };
        var value = new SlackDistributionAlignment(1.0, zero, new LayerwiseSampleEnhancement(2.0)).Compute(context).item<float>();
        // w = [[2, 1], [1, 2]]: sample 0 is enhanced on layer 0, sample 1 on layer 1.
        Assert.Equal(((2 * m[0]) + m[1] + m[2] + (2 * m[3])) / 2, value, 3);

        var shifted = new LossContext
        {
            Images = context.Images,
            ModelInput = context.ModelInput,
            Pass = context.Pass,
            Targets = context.Targets,
            Generator = context.Generator,
            FirstSampleIndex = 1,
        };
        var valueShifted = new SlackDistributionAlignment(1.0, zero, new LayerwiseSampleEnhancement(2.0)).Compute(shifted).item<float>();
        Assert.Equal((m[0] + (2 * m[1]) + (2 * m[2]) + m[3]) / 2, valueShifted, 3);
    }

    [Fact]
    public void MarginsAreTheStatedQuantileOfTheNoiseGaps()
    {
        using var scope = NewDisposeScope();
        using var model = new IdentityModel([1f, 2.5f], s_sigma);
        // Mean gaps: |2-1| = 1, |0-2.5| = 2.5, |-1-1| = 2, |4-2.5| = 1.5 -> sorted 1, 1.5, 2, 2.5.
        // 0.9-quantile: position 0.9·3 = 2.7 -> 2 + 0.7·(2.5-2) = 2.35.
        var margins = BatchNormMargins.Compute(model, HandBatch(), quantile: 0.9);
        Assert.Equal(2.35, margins.Mean[0], 5);
        // Std gaps: sqrt(1+1e-6)-1, 3-0.001, 1-0.001, 3-sqrt(4+1e-6) -> sorted 5e-7, 0.999, 0.99999975, 2.999.
        double third = 3 - Math.Sqrt(4 + 1e-6), fourth = 3 - s_tinyStd;
        Assert.Equal(third + (0.7 * (fourth - third)), margins.Std[0], 5);
        // 0.5-quantile of the mean gaps: position 1.5 -> 1.5 + 0.5·(2-1.5) = 1.75.
        Assert.Equal(1.75, BatchNormMargins.Compute(model, HandBatch(), quantile: 0.5).Mean[0], 5);
    }

    [Fact]
    public void QuantileInterpolatesLinearlyBetweenOrderStatistics()
    {
        var values = new float[] { 10, 1, 9, 2, 8, 3, 7, 4, 6, 5 };
        Assert.Equal(9.1, BatchNormMargins.Quantile(values, 0.9), 6);
        Assert.Equal(5.5, BatchNormMargins.Quantile(values, 0.5), 6);
        Assert.Equal(10, BatchNormMargins.Quantile(values, 1.0), 6);
        Assert.Equal(1, BatchNormMargins.Quantile(values, 0.0), 6);
    }

    [Fact]
    public void ZeroQAlignsBatchStatisticsNotPerSampleStatistics()
    {
        using var scope = NewDisposeScope();
        using var model = new IdentityModel([0f], [1f]);
        // Two constant samples, +1 and -1: per sample μ̃ = ±1 and σ̃ = 0.001, but the batch has mean 0 and std ≈ 1.
        var batch = tensor(new float[] { 1, 1, -1, -1 }, [2, 1, 1, 2]);
        var zeroq = new BatchStatisticsAlignment(1.0).Compute(Context(model, batch)).item<float>();
        Assert.Equal(Sq(Math.Sqrt(1 + 1e-6) - 1), zeroq, 9);
        var perSample = new SlackDistributionAlignment(1.0, BatchNormMargins.Zero(1), null).Compute(Context(model, batch)).item<float>();
        Assert.Equal(Sq(1) + Sq(s_tinyStd - 1), perSample, 4);

        // A batch whose statistics are off: values 0, 2, 4, 6 -> batch mean 3, population variance 5.
        using var target = new IdentityModel([1f], [2f]);
        var off = tensor(new float[] { 0, 2, 4, 6 }, [2, 1, 1, 2]);
        var value = new BatchStatisticsAlignment(1.0).Compute(Context(target, off)).item<float>();
        Assert.Equal(Sq(3 - 1) + Sq(Math.Sqrt(5 + 1e-6) - 2), value, 4);
    }

    [Fact]
    public void InputStatisticsPushesEachSampleChannelToMeanZeroStdOne()
    {
        using var scope = NewDisposeScope();
        // Per sample and channel: (2, sqrt(1+1e-6)), (0, 0.001), (-1, 0.001), (4, sqrt(4+1e-6)); divided by N = 2.
        double expected = (Sq(2) + Sq(Math.Sqrt(1 + 1e-6) - 1) + Sq(0) + Sq(s_tinyStd - 1) + Sq(-1) + Sq(s_tinyStd - 1) + Sq(4) + Sq(Math.Sqrt(4 + 1e-6) - 1)) / 2;
        Assert.Equal(expected, InputStatistics.Loss(HandBatch()).item<float>(), 4);
    }

    [Fact]
    public void TotalVariationAndL2AreAveragedPerSampleNorms()
    {
        using var scope = NewDisposeScope();
        // One 2×2 image [[0, 3], [4, 0]]: horizontal differences 3, -4 -> norm 5; vertical 4, -3 -> norm 5.
        var image = tensor(new float[] { 0, 3, 4, 0, 0, 0, 0, 0 }, [2, 1, 2, 2]);
        Assert.Equal((5 + 5 + 0) / 2.0, TotalVariation.Loss(image).item<float>(), 4);
        Assert.Equal((5 + 0) / 2.0, JitteredL2Norm.Loss(image).item<float>(), 4);
    }

    [Fact]
    public void OffDiagonalCosineIsTheMeanSquaredOffDiagonalOfTheGram()
    {
        using var scope = NewDisposeScope();
        // Rows (1,0), (0,1), (1,1): cosines 0, 1/√2, 1/√2 -> squares 0, ½, ½; six off-diagonal entries -> 1/3.
        var batch = tensor(new float[] { 1, 0, 0, 1, 1, 1 }, [3, 1, 1, 2]);
        Assert.Equal(1.0 / 3, SampleCorrelationInhibition.OffDiagonalCosine(batch).item<float>(), 5);
        Assert.Equal(0.0, SampleCorrelationInhibition.OffDiagonalCosine(batch[..1]).item<float>(), 6);
        // The diversity metric uses absolute values: (0 + 1/√2 + 1/√2)·2 / 6.
        Assert.Equal(Math.Sqrt(2) / 3, DiversityMetrics.MeanAbsoluteOffDiagonalCosine(batch.reshape(3, -1).to(float64)), 6);
    }

    [Fact]
    public void GdppAgainstItselfLeavesOnlyTheWeightedStructureTerm()
    {
        using var scope = NewDisposeScope();
        // Rows (1,0), (1,1): S = [[1, 1/√2], [1/√2, 1]], eigenvalues 1 ∓ 1/√2 -> min-max normalised 0, 1.
        // Against itself: MSE = 0 and ⟨v_j, v_j⟩ = 1, so the loss is |−(0·1 + 1·1)| = 1.
        var batch = tensor(new float[] { 1, 0, 1, 1 }, [2, 1, 1, 2]);
        Assert.Equal(1.0, SampleCorrelationInhibition.Gdpp(batch, batch).item<float>(), 5);
    }

    [Fact]
    public void EveryTermHasAFiniteGradientOnRandomImages()
    {
        using var scope = NewDisposeScope();
        using var model = new TinyBatchNormModel();
        using var generator = new Generator(3);
        var images = randn([4, 1, 14, 14], generator: generator).requires_grad_(true);
        var pass = model.Forward(images, true, true);
        var context = new LossContext
        {
            Images = images,
            ModelInput = images,
            Pass = pass,
            Targets = model.BatchNorms,
            Labels = tensor(new long[] { 0, 3, 5, 9 }),
            Generator = generator,
        };
        LossTerm[] terms =
        [
            new SlackDistributionAlignment(1, new BatchNormMargins([0.1, 0.1], [0.1, 0.1]), new LayerwiseSampleEnhancement(2)),
            new BatchStatisticsAlignment(1), new InputStatistics(1), RandomLabelCrossEntropy.ForLogits(1), new TotalVariation(1),
            new JitteredL2Norm(1), new SampleCorrelationInhibition(1, CorrelationForm.OffDiagonalCosine),
            new SampleCorrelationInhibition(1, CorrelationForm.Gdpp),
        ];
        foreach (var term in terms)
        {
            var grad = autograd.grad([term.Compute(context)], [images], retain_graph: true)[0];
            Assert.True(isfinite(grad).all().item<bool>(), term.Name);
            Assert.True(grad.abs().sum().item<float>() > 0, term.Name);
        }
    }

    /// <summary>Logits of two samples over three classes, labels 0 and 2, and their cross-entropy worked out by hand.</summary>
    private static readonly float[] s_logits = [2f, 0f, -1f, 0.5f, 1f, 3f];

    private static double HandCrossEntropy() =>
        (-Math.Log(Math.Exp(2) / (Math.Exp(2) + 1 + Math.Exp(-1))) - Math.Log(Math.Exp(3) / (Math.Exp(0.5) + Math.Exp(1) + Math.Exp(3)))) / 2;

    private static double ClassTermOn(LossTerm term, Tensor output) => term.Compute(new LossContext
    {
        Images = zeros(2, 1, 1, 1),
        ModelInput = zeros(2, 1, 1, 1),
        Pass = Passes.FromActivations(output, [], null),
        Targets = [],
        Labels = tensor(new long[] { 0, 2 }),
        Generator = new Generator(1),
    }).item<float>();

    [Fact]
    public void TheClassTermIsTheSameCrossEntropyOnLogitsLogProbabilitiesAndProbabilities()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(s_logits, [2, 3]);
        double expected = HandCrossEntropy();

        Assert.Equal(expected, ClassTermOn(RandomLabelCrossEntropy.ForLogits(1), logits), 5);
        // LogSoftmax output: log_softmax(log_softmax(x)) = log_softmax(x), so the logits form is right as it is.
        Assert.Equal(expected, ClassTermOn(RandomLabelCrossEntropy.ForLogits(1), nn.functional.log_softmax(logits, 1)), 5);
        // Softmax output: NLL on the log of the probabilities; an N×K×1×1 output counts as N×K.
        var probabilities = nn.functional.softmax(logits, 1);
        Assert.Equal(expected, ClassTermOn(RandomLabelCrossEntropy.ForProbabilities(1), probabilities), 5);
        Assert.Equal(expected, ClassTermOn(RandomLabelCrossEntropy.ForProbabilities(1), probabilities.reshape(2, 3, 1, 1)), 5);
        // The logits form on probabilities (what the term did before output kinds) is a different, wrong number.
        Assert.True(Math.Abs(ClassTermOn(RandomLabelCrossEntropy.ForLogits(1), probabilities) - expected) > 0.1);
    }

    [Fact]
    public void AProbabilityOfZeroGivesTheFlooredFiniteLossAndSoftmaxGradientsStayFinite()
    {
        using var scope = NewDisposeScope();
        var probabilities = tensor(new float[] { 1f, 0f, 0f, 0f, 0f, 1f }, [2, 3]);
        // Both labels (0 and 2) have probability 1: loss 0. With probability 0 on both, the loss is −log of the floor, not infinity.
        Assert.Equal(0, ClassTermOn(RandomLabelCrossEntropy.ForProbabilities(1), probabilities), 6);
        var ruledOut = tensor(new float[] { 0f, 1f, 0f, 0f, 1f, 0f }, [2, 3]);
        Assert.Equal(-Math.Log(RandomLabelCrossEntropy.ProbabilityFloor), ClassTermOn(RandomLabelCrossEntropy.ForProbabilities(1), ruledOut), 3);

        var logits = tensor(s_logits, [2, 3]).requires_grad_(true);
        var loss = RandomLabelCrossEntropy.ForProbabilities(1).Compute(new LossContext
        {
            Images = logits,
            ModelInput = logits,
            Pass = Passes.FromActivations(nn.functional.softmax(logits, 1), [], null),
            Targets = [],
            Labels = tensor(new long[] { 0, 2 }),
            Generator = new Generator(1),
        });
        var grad = autograd.grad([loss], [logits])[0];
        // d CE / d logits = (softmax - onehot) / N, the same as the cross-entropy on the logits.
        var expected = (nn.functional.softmax(logits, 1) - nn.functional.one_hot(tensor(new long[] { 0, 2 }), 3).to(float32)).DividedBy(2);
        Assert.True(allclose(grad, expected.detach(), rtol: 1e-4, atol: 1e-6));
    }

    [Theory]
    [InlineData(OutputKind.Logits, false)]
    [InlineData(OutputKind.LogProbabilities, false)]
    [InlineData(OutputKind.Probabilities, true)]
    public void TheCompositionPicksTheClassTermFormForTheOutputKind(OutputKind kind, bool onProbabilities)
    {
        var terms = LossComposition.For(GenerationOptions.Default, 2, BatchNormMargins.Zero(2), kind);
        var ce = Assert.Single(terms.OfType<RandomLabelCrossEntropy>());
        Assert.Equal(onProbabilities, ce.OnProbabilities);
        Assert.Equal(GenerationOptions.Default.CrossEntropyWeight, ce.Weight);
    }

    [Theory]
    [InlineData(OutputKind.Embedding)]
    [InlineData(OutputKind.Dense)]
    public void TheCompositionLeavesTheClassTermOutForOutputsThatAreNotClassScores(OutputKind kind)
    {
        var terms = LossComposition.For(GenerationOptions.Default, 2, BatchNormMargins.Zero(2), kind);
        Assert.Empty(terms.OfType<RandomLabelCrossEntropy>());
        Assert.Contains(terms, t => t.Name == "bn");
        var warning = ClassTerm.OffWarning(GenerationOptions.Default, kind);
        Assert.Equal(ErrorCodes.ClassTermOff, warning!.Code);
        Assert.Contains(kind == OutputKind.Dense ? "dense map" : "embedding", warning.Message);
        Assert.Contains("--without class", warning.Message);
        Assert.Null(ClassTerm.OffWarning(GenerationOptions.Default with { UseCrossEntropy = false }, kind));
        Assert.Null(ClassTerm.OffWarning(GenerationOptions.Default with { Method = GenerationMethod.ZeroQ }, kind));
        Assert.Null(ClassTerm.OffWarning(GenerationOptions.Default, OutputKind.Logits));
    }

    private static LossContext Context(IGenerationModel model, Tensor batch) => new()
    {
        Images = batch,
        ModelInput = batch,
        Pass = model.Forward(batch, true, false),
        Targets = model.BatchNorms,
        Generator = new Generator(1),
    };
}
