using Dsg.Core.Data;
using Dsg.Core.Generation;
using Dsg.Core.Graph;
using static TorchSharp.torch;

namespace Dsg.Core.Tests.Generation;

/// <summary>The optimisation loop on a tiny TorchSharp model with the executor's shape of data.</summary>
public sealed class SampleGeneratorTests
{
    private static readonly GenerationOptions s_small = new()
    {
        Samples = 6,
        BatchSize = 4,
        Iterations = 12,
        Seed = 11,
        Device = "cpu",
        ProgressStride = 5,
        CurveStride = 4,
    };

    [Theory]
    [InlineData(GenerationMethod.Dsg)]
    [InlineData(GenerationMethod.ZeroQ)]
    [InlineData(GenerationMethod.Gaussian)]
    public void TheSameSeedGivesIdenticalBytesAndAnotherSeedDoesNot(GenerationMethod method)
    {
        using var model = new TinyBatchNormModel();
        var options = s_small with { Method = method };
        var first = SampleGenerator.Generate(model, options, null, default);
        var second = SampleGenerator.Generate(model, options, null, default);
        var other = SampleGenerator.Generate(model, options with { Seed = 12 }, null, default);
        Assert.Equal(Bytes(first.Samples.ToArray()), Bytes(second.Samples.ToArray()));
        Assert.NotEqual(Bytes(first.Samples.ToArray()), Bytes(other.Samples.ToArray()));
        Assert.Equal(new long[] { 6, 1, 14, 14 }, first.Shape);
    }

    [Theory]
    [InlineData(GenerationMethod.Dsg)]
    [InlineData(GenerationMethod.Gaussian)]
    public void SamplesKeptInAScratchFileAreTheSameAsInMemoryAndSoAreTheirMetrics(GenerationMethod method)
    {
        using var model = new TinyBatchNormModel();
        var options = s_small with { Method = method };
        using var memory = SampleGenerator.Generate(model, options, null, default);
        GenerationResult spilled;
        using (SampleBuffer.SpillAbove(0))
        {
            spilled = SampleGenerator.Generate(model, options, null, default);
        }

        using (spilled)
        {
            Assert.True(memory.Samples.InMemory);
            Assert.False(spilled.Samples.InMemory);
            Assert.Equal(Bytes(memory.Samples.ToArray()), Bytes(spilled.Samples.ToArray()));
            Assert.Equal(memory.Diversity, spilled.Diversity);
        }
    }

    [Fact]
    public void DiversityIsMeasuredUnlessTurnedOffAndTheSamplesAreTheSameEitherWay()
    {
        using var model = new TinyBatchNormModel();
        using var measured = SampleGenerator.Generate(model, s_small, null, default);
        using var unmeasured = SampleGenerator.Generate(model, s_small with { MeasureDiversity = false }, null, default);
        Assert.NotNull(measured.Diversity);
        Assert.Null(unmeasured.Diversity);
        Assert.Equal(Bytes(measured.Samples.ToArray()), Bytes(unmeasured.Samples.ToArray()));
    }

    [Fact]
    public void ThePixelCosineOverRowBlocksIsTheCosineOverAllRows()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(3);
        var rows = randn([7, 50], generator: generator).Plus(0.3);
        double whole = DiversityMetrics.MeanAbsoluteOffDiagonalCosine(rows);
        foreach (long blockValues in new long[] { 50, 100, 150, 350 })
        {
            double blocked = DiversityMetrics.MeanAbsoluteOffDiagonalCosine(7, 50, (start, count) => rows.narrow(0, start, count), blockValues);
            Assert.Equal(whole, blocked, 12);
        }
    }

    [Fact]
    public void GaussianSamplesAreTheSeededNoiseOfEachBatch()
    {
        using var model = new TinyBatchNormModel();
        var result = SampleGenerator.Generate(model, s_small with { Method = GenerationMethod.Gaussian }, null, default);
        using var scope = NewDisposeScope();
        using var second = new Generator(12);
        var expected = randn([2, 1, 14, 14], generator: second).data<float>().ToArray();
        Assert.Equal(expected, result.Samples.ToArray().AsSpan(4 * 196).ToArray());
        Assert.Empty(result.Curves);
    }

    [Theory]
    [InlineData(GenerationMethod.Dsg)]
    [InlineData(GenerationMethod.ZeroQ)]
    public void TheBatchNormLossFallsAndTheImagesChange(GenerationMethod method)
    {
        using var model = new TinyBatchNormModel();
        var options = s_small with { Method = method, Samples = 4, Iterations = 60, UseSlack = false };
        var result = SampleGenerator.Generate(model, options, null, default);
        var bn = result.Curve("bn")!.ForBatch(1).ToArray();
        Assert.Equal(0, bn[0].Iteration);
        Assert.Equal(59, bn[^1].Iteration);
        // DSG smooths its images by default, which keeps part of the variance this tiny model's first BatchNorm asks
        // for out of reach: its loss falls to about a quarter in 60 steps, ZeroQ's further.
        double bound = method == GenerationMethod.Dsg ? 0.3 : 0.2;
        Assert.True(bn[^1].Value < bound * bn[0].Value, $"bn {bn[0].Value} -> {bn[^1].Value}");
        var noise = SampleGenerator.Generate(model, options with { Method = GenerationMethod.Gaussian }, null, default);
        Assert.NotEqual(Bytes(noise.Samples.ToArray()), Bytes(result.Samples.ToArray()));
    }

    [Theory]
    [InlineData("RAdam")]
    [InlineData("RandomFlip")]
    [InlineData("Canvas")]
    [InlineData("Smoothing")]
    public void TheOptimiserFlipAndPipelineChoicesStillLowerTheBatchNormLossAndChangeTheSamples(string choice)
    {
        using var model = new TinyBatchNormModel();
        var options = s_small with { Samples = 4, Iterations = 60, UseSlack = false };
        var changed = choice switch
        {
            "RAdam" => options with { Optimizer = GenerationOptimizer.RAdam },
            "RandomFlip" => options with { RandomFlip = true },
            "Canvas" => options with { CanvasPixels = 3 },
            _ => options with { SmoothingSigma = 0 },
        };
        var result = SampleGenerator.Generate(model, changed, null, default);
        var bn = result.Curve("bn")!.ForBatch(1).ToArray();
        // Smoothing (on by default; the "Smoothing" case switches it off) takes away the highest frequencies, part of
        // what the tiny model's first BatchNorm's variance asks for, so with it the loss falls less far in 60 steps.
        double bound = choice == "Smoothing" ? 0.2 : 0.3;
        Assert.True(bn[^1].Value < bound * bn[0].Value, $"{choice}: bn {bn[0].Value} -> {bn[^1].Value}");
        var plain = SampleGenerator.Generate(model, options, null, default);
        Assert.NotEqual(Bytes(plain.Samples.ToArray()), Bytes(result.Samples.ToArray()));
        Assert.Equal(Bytes(result.Samples.ToArray()), Bytes(SampleGenerator.Generate(model, changed, null, default).Samples.ToArray()));
        Assert.Equal(plain.Shape, result.Shape);
    }

    [Fact]
    public void DsgUsesEveryTermAndZeroQOnlyBatchAlignmentAndInputStatistics()
    {
        using var model = new TinyBatchNormModel();
        var dsg = SampleGenerator.Generate(model, s_small, null, default);
        Assert.Equal(new[] { "total", "bn", "input", "sci", "ce", "tv", "l2" }, dsg.Curves.Select(c => c.Term));
        var zeroq = SampleGenerator.Generate(model, s_small with { Method = GenerationMethod.ZeroQ }, null, default);
        Assert.Equal(new[] { "total", "bn", "input" }, zeroq.Curves.Select(c => c.Term));
        var ablated = SampleGenerator.Generate(model, s_small with
        {
            UseCorrelationInhibition = false,
            UseCrossEntropy = false,
            UsePriors = false,
            UseInputStatistics = false,
        }, null, default);
        Assert.Equal(new[] { "total", "bn" }, ablated.Curves.Select(c => c.Term));

        // Curves keep iterations 0, 4, 8 and the last (11) of both batches; the total is the sum of the terms.
        var total = dsg.Curve("total")!;
        Assert.Equal(new[] { 0, 4, 8, 11 }, total.ForBatch(2).Select(p => p.Iteration));
        var sum = dsg.Curves.Where(c => c.Term != "total").Sum(c => c.Points[0].Value);
        Assert.Equal(total.Points[0].Value, sum, 4);
    }

    [Fact]
    public void ThePooledBatchNormTermSitsBesideSdaAndIsZeroQsBatchAlignmentTimesItsWeight()
    {
        using var model = new TinyBatchNormModel();
        // No smoothing either: iteration 0 must feed DSG the same noise ZeroQ sees.
        var plain = s_small with { UseCorrelationInhibition = false, UseCrossEntropy = false, UsePriors = false, UseInputStatistics = false, SmoothingSigma = 0 };
        var pooled = SampleGenerator.Generate(model, plain with { PooledBatchNormWeight = 3 }, null, default);
        Assert.Equal(new[] { "total", "bn", "bn-batch" }, pooled.Curves.Select(c => c.Term));

        // Iteration 0 of a batch sees the same starting noise under every method: ZeroQ's "bn" there is the
        // unweighted batch alignment of that noise.
        var zeroq = SampleGenerator.Generate(model, plain with { Method = GenerationMethod.ZeroQ, UseInputStatistics = false }, null, default);
        double alignment = zeroq.Curve("bn")!.ForBatch(1).First().Value;
        Assert.True(alignment > 0);
        Assert.Equal(3 * alignment, pooled.Curve("bn-batch")!.ForBatch(1).First().Value, 3);

        // The term moves the images: samples differ from those of SDA alone, and 0 leaves the term out.
        var sdaOnly = SampleGenerator.Generate(model, plain, null, default);
        Assert.Equal(new[] { "total", "bn" }, sdaOnly.Curves.Select(c => c.Term));
        Assert.NotEqual(Bytes(sdaOnly.Samples.ToArray()), Bytes(pooled.Samples.ToArray()));
    }

    [Fact]
    public void ProgressIsReportedAtTheStrideAndTheLastIteration()
    {
        using var model = new TinyBatchNormModel();
        var reports = new List<GenerationProgress>();
        SampleGenerator.Generate(model, s_small, new SynchronousProgress(reports.Add), default);
        Assert.Equal(new[] { (1, 1), (1, 5), (1, 10), (1, 12), (2, 1), (2, 5), (2, 10), (2, 12) },
            reports.Select(r => (r.Batch, r.Iteration)));
        Assert.All(reports, r => Assert.Equal(2, r.Batches));
        Assert.All(reports, r => Assert.Equal(r.TotalLoss, r.Terms.Values.Sum(), 4));
        Assert.Equal(24, reports[^1].Current);
        Assert.Equal(24, reports[^1].Total);
        Assert.StartsWith("batch 2/2 iter 12/12 loss ", reports[^1].ToString());
    }

    [Fact]
    public void CancellationStopsTheLoopWithOperationCanceled()
    {
        using var model = new TinyBatchNormModel();
        using var cts = new CancellationTokenSource();
        var reports = new List<GenerationProgress>();
        var progress = new SynchronousProgress(p =>
        {
            reports.Add(p);
            cts.Cancel();
        });
        Assert.Throws<OperationCanceledException>(() => SampleGenerator.Generate(model, s_small, progress, cts.Token));
        Assert.Single(reports);
        Assert.Equal(3, model.ForwardCalls); // the output-kind probe, the margin batch, then one iteration before the token was seen
    }

    [Fact]
    public void ThreadsAreSetForTheRunAndRestoredAfterwards()
    {
        using var model = new TinyBatchNormModel();
        int before = get_num_threads();
        int during = 0;
        var progress = new SynchronousProgress(_ => during = get_num_threads());
        SampleGenerator.Generate(model, s_small with { Threads = 1, Iterations = 1 }, progress, default);
        Assert.Equal(1, during);
        Assert.Equal(before, get_num_threads());
    }

    [Fact]
    public void AModelWithoutBatchNormIsRejectedForDsgButNotForGaussian()
    {
        using var model = new TinyBatchNormModel(withBatchNorm: false);
        var e = Assert.Throws<DsgException>(() => SampleGenerator.Generate(model, s_small, null, default));
        Assert.Equal(ErrorCodes.NoBatchNorm, e.Code);
        var noise = SampleGenerator.Generate(model, s_small with { Method = GenerationMethod.Gaussian }, null, default);
        Assert.Equal(6 * 196, noise.Samples.ToArray().Length);
    }

    [Fact]
    public void ADenseOutputSwitchesTheClassTermOffWithAWarningInsteadOfFailing()
    {
        using var model = new TinyBatchNormModel(head: TinyHead.Map);
        var warnings = new List<GenerationWarning>();
        var result = SampleGenerator.Generate(model, s_small, null, default, warnings.Add);

        Assert.Equal(OutputKind.Dense, result.OutputKind);
        Assert.Equal("off", result.ClassTermUsed);
        var warning = Assert.Single(warnings);
        Assert.Equal(ErrorCodes.ClassTermOff, warning.Code);
        Assert.Contains("dense map", warning.Message);
        Assert.Equal(warnings, result.Warnings);
        Assert.DoesNotContain(result.Curves, c => c.Term == "ce");
        Assert.Contains(result.Curves, c => c.Term == "bn");
        Assert.Equal(6 * 196, result.Samples.ToArray().Length);

        // Switched off on purpose, it is not worth a warning.
        warnings.Clear();
        SampleGenerator.Generate(model, s_small with { UseCrossEntropy = false }, null, default, warnings.Add);
        Assert.Empty(warnings);
    }

    [Fact]
    public void ASoftmaxOutputIsRecognisedByItsRowsAndGetsTheNllClassTerm()
    {
        using var model = new TinyBatchNormModel(head: TinyHead.Probabilities);
        var warnings = new List<GenerationWarning>();
        var result = SampleGenerator.Generate(model, s_small, null, default, warnings.Add);

        Assert.Equal(OutputKind.Probabilities, result.OutputKind);
        Assert.Equal("NLL on log-probabilities", result.ClassTermUsed);
        Assert.Empty(warnings);
        Assert.All(result.Curve("ce")!.Points, p => Assert.True(double.IsFinite(p.Value) && p.Value > 0, $"ce {p.Value}"));

        using var logits = new TinyBatchNormModel();
        Assert.Equal(OutputKind.Logits, SampleGenerator.Generate(logits, s_small with { Samples = 2, Iterations = 1 }, null, default).OutputKind);
    }

    [Theory]
    [InlineData(OutputKind.Logits)]
    [InlineData(OutputKind.Probabilities)]
    public void AClassKindGivenForAnOutputThatIsNotNByKFailsWithDsg0601NamingRealOptions(OutputKind kind)
    {
        using var model = new TinyBatchNormModel(head: TinyHead.Map);
        var e = Assert.Throws<DsgException>(() => SampleGenerator.Generate(model, s_small with { OutputKind = kind }, null, default));
        Assert.Equal(ErrorCodes.OutputNotClassScores, e.Code);
        Assert.Contains("(4, 6, 7, 7)", e.Message);
        Assert.Contains("--output-kind", e.Hint);
        Assert.Contains("--without class", e.Hint);
        Assert.DoesNotContain("UseCrossEntropy", e.Hint);
    }

    [Fact]
    public void GaussianSamplesAreTheSeededNoiseMappedIntoTheInputConventionAndItsRange()
    {
        using var model = new TinyBatchNormModel();
        var input = new InputConvention([5.0], [2.0], null, InputConvention.Declared, "declared");
        var result = SampleGenerator.Generate(model, s_small with { Method = GenerationMethod.Gaussian, Input = input }, null, default);
        using var scope = NewDisposeScope();
        using var second = new Generator(12);
        var z = randn([2, 1, 14, 14], generator: second).data<float>().ToArray();
        var samples = result.Samples.ToArray().AsSpan(4 * 196).ToArray();
        for (int i = 0; i < z.Length; i++)
        {
            Assert.Equal(5 + (2 * z[i]), samples[i], 1e-5);
        }

        var bounded = SampleGenerator.Generate(model, s_small with { Method = GenerationMethod.Gaussian, Input = input with { Range = new InputRange(4, 6) } }, null, default);
        var clamped = bounded.Samples.ToArray().AsSpan(4 * 196).ToArray();
        for (int i = 0; i < z.Length; i++)
        {
            Assert.Equal(Math.Clamp(5 + (2 * z[i]), 4, 6), clamped[i], 1e-5);
        }
    }

    [Fact]
    public void AnInputConventionWithTheWrongChannelCountIsABadOption()
    {
        using var model = new TinyBatchNormModel();
        var input = new InputConvention([0.4, 0.5, 0.6], [0.2], null, InputConvention.Declared, "declared");
        var e = Assert.Throws<DsgException>(() => SampleGenerator.Generate(model, s_small with { Input = input }, null, default));
        Assert.Equal(ErrorCodes.BadOption, e.Code);
        Assert.Contains("--input-mean has 3 values", e.Message);
        Assert.Contains("1 channel", e.Message);
    }

    [Fact]
    public void ADivergingLossIsReportedWithAHint()
    {
        using var model = new TinyBatchNormModel(poisoned: true);
        var e = Assert.Throws<DsgException>(() => SampleGenerator.Generate(model, s_small, null, default));
        Assert.Equal(ErrorCodes.GenerationDiverged, e.Code);
        Assert.Contains("learning rate", e.Hint);
    }

    [Fact]
    public void OptionsAskingForADifferentDeviceThanTheModelAreRefused()
    {
        using var model = new TinyBatchNormModel();
        if (cuda.is_available())
        {
            Assert.Throws<ArgumentException>(() => SampleGenerator.Generate(model, s_small with { Device = "cuda" }, null, default));
        }
        else
        {
            var e = Assert.Throws<DsgException>(() => SampleGenerator.Generate(model, s_small with { Device = "cuda" }, null, default));
            Assert.Equal(ErrorCodes.CudaUnavailable, e.Code);
        }
    }

    private static byte[] Bytes(float[] values) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    /// <summary>Progress that runs the callback on the reporting thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<GenerationProgress> report) : IProgress<GenerationProgress>
    {
        public void Report(GenerationProgress value) => report(value);
    }
}
