using System.Text.Json;
using Dsg.Core.Data;
using Dsg.Core.Evaluation;
using Dsg.Core.Generation;
using Dsg.Core.Graph;
using Dsg.Core.Onnx;
using Dsg.Core.Pipeline;
using Dsg.Core.Quantization;
using Dsg.Core.Tests.Graph;
using Dsg.Tests.Shared;

namespace Dsg.Core.Tests.Pipeline;

public sealed class QuantizePipelineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsg-pipeline-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private QuantizeRequest Request(string precision = "W8A8", ICalibrationSource? source = null) => new()
    {
        ModelPath = RepoPaths.Model("resnet_fmnist.onnx"),
        OutputPath = Path.Combine(_dir, "out", "resnet.q.onnx"),
        Source = source ?? new FileCalibrationSource(RepoPaths.Data("fmnist_test_64.npy")),
        Options = QuantizationOptions.FromPrecision(precision),
        Samples = 48,
        HeldOutSamples = 16,
    };

    [Fact]
    public void SyntheticSamplesFollowTheDeclaredConventionAndTheReportRecordsIt()
    {
        var source = new GeneratorCalibrationSource(new GenerationOptions { Method = GenerationMethod.Gaussian, Device = "cpu" },
            new InputConventionDeclaration(Range: new InputRange(-0.5, 0.5)));
        var outcome = QuantizePipeline.Run(Request(source: source) with { Samples = 32 });

        var input = outcome.Report.InputConvention!;
        Assert.Equal(new InputRange(-0.5, 0.5), input.Range);
        Assert.Equal(InputConvention.Inferred, input.Source);
        Assert.InRange(input.Std[0], 0.49, 0.5);
        var observed = outcome.Report.Activations.Single(a => a.Tensor == "input");
        Assert.InRange(observed.ObservedMin, -0.5f, -0.4f);
        Assert.InRange(observed.ObservedMax, 0.4f, 0.5f);
        // The grid keeps 0 exact, which may shift it by up to half a step; beyond that it stays inside the declared range.
        float step = observed.Scale;
        Assert.True(observed.RangeMin >= -0.5 - (step / 2) - 1e-6 && observed.RangeMax <= 0.5 + (step / 2) + 1e-6, $"input range [{observed.RangeMin}, {observed.RangeMax}]");

        using var json = JsonDocument.Parse(File.ReadAllText(outcome.ReportPaths[0]));
        var recorded = json.RootElement.GetProperty("inputConvention");
        Assert.Equal("inferred", recorded.GetProperty("source").GetString());
        Assert.Equal(0.5, recorded.GetProperty("range").GetProperty("max").GetDouble());
        Assert.Contains("- Input convention: mean ", File.ReadAllText(outcome.ReportPaths[1]));
        var back = QuantizeReportWriter.FromJson(File.ReadAllText(outcome.ReportPaths[0]))!.InputConvention!;
        Assert.Equal(input.Mean, back.Mean);
        Assert.Equal(input.Std, back.Std);
        Assert.Equal(input.Range, back.Range);
        Assert.Equal(input.Detail, back.Detail);
    }

    [Fact]
    public void SamplesInAScratchFileQuantizeToTheSameBytesAsSamplesInMemory()
    {
        var source = new GeneratorCalibrationSource(new GenerationOptions { Method = GenerationMethod.Gaussian, Device = "cpu" });
        var memory = QuantizePipeline.Run(Request(source: source) with { Samples = 40 });
        var inMemoryBytes = File.ReadAllBytes(memory.OutputPath);
        QuantizeOutcome spilled;
        using (SampleBuffer.SpillAbove(0))
        {
            spilled = QuantizePipeline.Run(Request(source: source) with { Samples = 40, OutputPath = Path.Combine(_dir, "spilled", "resnet.q.onnx") });
        }

        Assert.Equal(inMemoryBytes, File.ReadAllBytes(spilled.OutputPath));
        Assert.Equal(memory.Agreement, spilled.Agreement);
        Assert.Empty(Directory.GetFiles(Path.GetTempPath(), $"dsg-samples.{Environment.ProcessId}.*"));
    }

    [Fact]
    public void RefinementIsAPhaseBetweenCalibrationAndWritingWithProgressPerLayer()
    {
        var events = new List<PipelineEvent>();
        var request = Request() with
        {
            ModelPath = RepoPaths.Model("tiny_cnn.onnx"),
            Options = QuantizationOptions.FromPrecision("W4A8") with { Refine = Dsg.Core.Quantization.Refinement.RefinementMethod.AdaRound, RefineIterations = 20 },
        };
        var outcome = QuantizePipeline.Run(request, new InlineProgress(events.Add));

        var phases = events.OfType<PhaseEvent>().Where(e => e.Status == PhaseStatus.Start).Select(e => e.Phase).ToList();
        Assert.Equal([PipelinePhase.Generate, PipelinePhase.Calibrate, PipelinePhase.Refine, PipelinePhase.Write, PipelinePhase.Verify], phases);
        var refine = events.OfType<ProgressEvent>().Where(e => e.Phase == PipelinePhase.Refine).ToList();
        Assert.Equal(3 * 20, refine[^1].Total);
        Assert.Equal(refine[^1].Total, refine[^1].Current);
        Assert.Contains(refine, e => e.Message.StartsWith("layer 2/3 ", StringComparison.Ordinal));
        Assert.Equal(3, outcome.Result.Refinement.Layers.Count);
        Assert.True(outcome.Report.Seconds.ContainsKey("refine"));
        Assert.Equal("adaround", outcome.Report.Options["refine"]);
        Assert.Equal(3, outcome.Report.Refinement.Count);
        Assert.Contains("## Refinement", File.ReadAllText(outcome.ReportPaths[1]));
    }

    [Fact]
    public void RealDataRunWritesModelAndReportsAndReportsPhasesInOrder()
    {
        var events = new List<PipelineEvent>();
        var outcome = QuantizePipeline.Run(Request(), new InlineProgress(events.Add));

        Assert.True(File.Exists(outcome.OutputPath));
        Assert.Equal([QuantizeRequest.JsonReportPath(outcome.OutputPath), QuantizeRequest.MarkdownReportPath(outcome.OutputPath)], outcome.ReportPaths);
        Assert.EndsWith("resnet.q.report.json", outcome.ReportPaths[0]);
        Assert.True(outcome.Agreement >= 0.9, $"agreement {outcome.Agreement}");

        var phases = events.OfType<PhaseEvent>().Select(e => (e.Phase, e.Status)).ToList();
        Assert.Equal(
            [(PipelinePhase.Generate, PhaseStatus.Start), (PipelinePhase.Generate, PhaseStatus.Done),
             (PipelinePhase.Calibrate, PhaseStatus.Start), (PipelinePhase.Calibrate, PhaseStatus.Done),
             (PipelinePhase.Write, PhaseStatus.Start), (PipelinePhase.Write, PhaseStatus.Done),
             (PipelinePhase.Verify, PhaseStatus.Start), (PipelinePhase.Verify, PhaseStatus.Done)], phases);
        Assert.Contains(events.OfType<ProgressEvent>(), e => e.Phase == PipelinePhase.Calibrate && e.Current == e.Total);

        using var json = JsonDocument.Parse(File.ReadAllText(outcome.ReportPaths[0]));
        var root = json.RootElement;
        Assert.Equal("W8A8", root.GetProperty("precision").GetString());
        Assert.Equal(48, root.GetProperty("calibrationSamples").GetInt32());
        Assert.Equal(16, root.GetProperty("heldOutSamples").GetInt32());
        Assert.Equal(outcome.Agreement, root.GetProperty("agreement").GetDouble());
        Assert.Equal("logits", root.GetProperty("outputKind").GetString());
        Assert.Equal("top-1", root.GetProperty("agreementMetric").GetString());
        Assert.Equal(AgreementMetric.TopOne, outcome.Metric);
        Assert.Empty(events.OfType<WarningEvent>());
        Assert.Equal(10, root.GetProperty("layers").GetArrayLength());
        Assert.All(root.GetProperty("layers").EnumerateArray(), l => Assert.True(l.GetProperty("weightSqnrDb").GetDouble() > 20));
        Assert.All(root.GetProperty("activations").EnumerateArray(), a => Assert.True(a.GetProperty("sqnrDb").GetDouble() > 10));
        foreach (var phase in new[] { "generate", "calibrate", "write", "verify", "total" })
        {
            Assert.True(root.GetProperty("seconds").GetProperty(phase).GetDouble() >= 0);
        }

        string md = File.ReadAllText(outcome.ReportPaths[1]);
        Assert.Contains("Top-1 agreement with fp32 on 16 held-out samples", md);
        Assert.Contains("| layer | op |", md);

        // The written file is the reported model and carries its options.
        var written = OnnxModel.Load(outcome.OutputPath);
        Assert.Contains(written.Proto.MetadataProps, p => p.Key == QuantizationMetadata.OptionsKey && p.Value.Contains("W8A8"));
    }

    [Fact]
    public void AnEmbeddingModelIsGeneratedForWithoutTheClassTermAndVerifiedByCosineSimilarity()
    {
        string path = Path.Combine(_dir, "embedding.onnx");
        TestModels.EmbeddingCnn().Save(path);
        var request = new QuantizeRequest
        {
            ModelPath = path,
            OutputPath = Path.Combine(_dir, "out", "embedding.q.onnx"),
            Source = new GeneratorCalibrationSource(new GenerationOptions { BatchSize = 8, Device = "cpu" }),
            Samples = 8,
            Iterations = 4,
            HeldOutSamples = 8,
        };
        var events = new List<PipelineEvent>();
        var outcome = QuantizePipeline.Run(request, new InlineProgress(events.Add));

        // Generation went on without the class term, and said so once (not once per generator run).
        var warning = Assert.Single(events.OfType<WarningEvent>());
        Assert.Equal(ErrorCodes.ClassTermOff, warning.Code);
        Assert.Contains("embedding", warning.Message);
        Assert.Equal(AgreementMetric.Cosine, outcome.Metric);
        Assert.Equal("embedding", outcome.Report.OutputKind);
        Assert.Equal("cosine", outcome.Report.AgreementMetric);
        Assert.StartsWith("embedding [N,6,1,1] (GlobalAveragePool", outcome.Report.OutputDescription);
        Assert.InRange(outcome.Agreement, 0.9, 1.0);
        Assert.Contains("Mean cosine similarity with fp32 on 8 held-out samples", File.ReadAllText(outcome.ReportPaths[1]));

        // The guard holds the cosine similarity to the minimum: at two bits it falls short of 1.
        var strict = request with
        {
            OutputPath = Path.Combine(_dir, "out", "embedding.w2.onnx"),
            Options = QuantizationOptions.FromPrecision("W2A2") with { Recipe = QuantizationRecipe.Paper },
            MinAgreement = 1.0,
        };
        var e = Assert.Throws<DsgException>(() => QuantizePipeline.Run(strict));
        Assert.Equal(ErrorCodes.AgreementBelowMinimum, e.Code);
        Assert.Contains("mean cosine similarity", e.Message);
        Assert.Contains("embedding output", e.Message);
        Assert.False(File.Exists(strict.OutputPath));
    }

    [Fact]
    public void AnExplicitClassKindOnAnEmbeddingIsTakenAndItsAgreementIsTopOne()
    {
        string path = Path.Combine(_dir, "embedding.onnx");
        TestModels.EmbeddingCnn().Save(path);
        var outcome = QuantizePipeline.Run(new QuantizeRequest
        {
            ModelPath = path,
            OutputPath = Path.Combine(_dir, "out", "embedding.q.onnx"),
            Source = new GaussianCalibrationSource(),
            Samples = 8,
            HeldOutSamples = 8,
            OutputKind = Dsg.Core.Graph.OutputKind.Logits,
            WriteReports = false,
        });
        Assert.Equal(AgreementMetric.TopOne, outcome.Metric);
        Assert.Equal("logits", outcome.Report.OutputKind);
    }

    [Fact]
    public void AgreementBelowMinimumFailsWithDsg0720AndWritesNothing()
    {
        var request = Request("W2A2") with { MinAgreement = 1.0, Options = QuantizationOptions.FromPrecision("W2A2") with { Recipe = QuantizationRecipe.Paper } };
        var e = Assert.Throws<DsgException>(() => QuantizePipeline.Run(request));
        Assert.Equal(ErrorCodes.AgreementBelowMinimum, e.Code);
        Assert.Contains("held-out", e.Message);
        Assert.False(File.Exists(request.OutputPath));
        Assert.False(File.Exists(QuantizeRequest.JsonReportPath(request.OutputPath)));
        Assert.Empty(Directory.Exists(Path.GetDirectoryName(request.OutputPath)) ? Directory.GetFiles(Path.GetDirectoryName(request.OutputPath)!) : []);
    }

    [Fact]
    public void CancellationLeavesNothingBehind()
    {
        using var cts = new CancellationTokenSource();
        var events = new List<PipelineEvent>();
        var progress = new InlineProgress(e =>
        {
            events.Add(e);
            if (e is PhaseEvent { Phase: PipelinePhase.Calibrate, Status: PhaseStatus.Done })
            {
                cts.Cancel();
            }
        });
        var request = Request();
        Assert.ThrowsAny<OperationCanceledException>(() => QuantizePipeline.Run(request, progress, cts.Token));
        Assert.False(File.Exists(request.OutputPath));
        Assert.DoesNotContain(events.OfType<PhaseEvent>(), p => p.Phase == PipelinePhase.Verify);
    }

    [Fact]
    public void GaussianSourceCalibratesOnNoiseAndHoldsOutOtherNoise()
    {
        var outcome = QuantizePipeline.Run(Request("W8A8", new GaussianCalibrationSource()) with { Samples = 32, WriteReports = false });
        Assert.Empty(outcome.ReportPaths);
        Assert.Equal("gaussian", outcome.Report.Source);
        Assert.Contains("seed 1", outcome.Report.SourceDescription);
        Assert.InRange(outcome.Agreement, 0.5, 1.0);
    }

    [Fact]
    public void WithoutAHeldOutCountThePipelineHoldsOutTheDefaultForItsSamples()
    {
        var request = Request("W8A8", new GaussianCalibrationSource()) with { Samples = 100, HeldOutSamples = null, WriteReports = false };
        Assert.Equal(25, QuantizePipeline.Run(request).Report.HeldOutSamples);
        Assert.Equal(20, QuantizePipeline.Run(request with { HeldOutSamples = 20 }).Report.HeldOutSamples);
    }

    [Fact]
    public void TheBudgetChoosesTheCountsNotGivenAndTheReportSaysSo()
    {
        // A budget whose cap fits 8 + 16 held-out samples × 3 iterations of resnet_fmnist, and no more samples.
        var cost = ModelCost.Measure(OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx")), [1, 28, 28]);
        var tiny = new GenerationBudget("tiny", 64, 3, 8, 1, cost.SecondsPerSampleStep * (8 + 16) * 3);
        var source = new GeneratorCalibrationSource(new GenerationOptions { Method = GenerationMethod.Dsg, BatchSize = 8, Device = "cpu" });
        var events = new List<PipelineEvent>();
        var outcome = QuantizePipeline.Run(Request(source: source) with { Samples = null, HeldOutSamples = null, Budget = tiny, WriteReports = false },
            new InlineProgress(events.Add));

        Assert.Equal(8, outcome.Report.CalibrationSamples);
        Assert.Equal(16, outcome.Report.HeldOutSamples);
        Assert.Contains("3 iterations", outcome.Report.SourceDescription);
        Assert.StartsWith("budget tiny: 8 samples × 3 iterations", outcome.Report.Budget);
        Assert.Contains("cut from 64 × 3", outcome.Report.Budget);
        Assert.Contains(events.OfType<NoteEvent>(), n => n.Message == outcome.Report.Budget);

        // A source that does not optimise takes the level's most samples and reports no budget.
        var gaussian = QuantizePipeline.Run(Request("W8A8", new GaussianCalibrationSource()) with { Samples = null, HeldOutSamples = null, Budget = tiny, WriteReports = false });
        Assert.Equal(64, gaussian.Report.CalibrationSamples);
        Assert.Null(gaussian.Report.Budget);
    }

    [Fact]
    public void GeneratedSamplesReportOneStepCountOverTheCalibrationAndHeldOutRuns()
    {
        // 8 calibration samples in one batch and 4 held-out samples in another, 2 iterations each: 4 steps in all.
        var source = new GeneratorCalibrationSource(new GenerationOptions { Method = GenerationMethod.Dsg, BatchSize = 8, Device = "cpu" });
        var events = new List<PipelineEvent>();
        QuantizePipeline.Run(Request(source: source) with { Samples = 8, Iterations = 2, HeldOutSamples = 4, WriteReports = false }, new InlineProgress(events.Add));

        var generate = events.OfType<ProgressEvent>().Where(e => e.Phase == PipelinePhase.Generate).ToList();
        Assert.Equal([1, 2, 3, 4], generate.Select(e => e.Current));
        Assert.All(generate, e => Assert.Equal(4, e.Total));
        Assert.Equal(["batch 1/1 iter 1/2", "batch 1/1 iter 2/2", "held-out batch 1/1 iter 1/2", "held-out batch 1/1 iter 2/2"],
            generate.Select(e => e.Message[..e.Message.IndexOf(" loss", StringComparison.Ordinal)]));
    }

    [Fact]
    public void BadRequestValuesAreOptionErrors()
    {
        Assert.Equal(ErrorCodes.BadOption, Assert.Throws<DsgException>(() => QuantizePipeline.Run(Request() with { Samples = 0 })).Code);
        Assert.Equal(ErrorCodes.BadOption, Assert.Throws<DsgException>(() => QuantizePipeline.Run(Request() with { MinAgreement = 1.5 })).Code);
        Assert.Equal(ErrorCodes.BadOption, Assert.Throws<DsgException>(() => QuantizePipeline.Run(Request() with { HeldOutSamples = 0 })).Code);
        Assert.Equal(ErrorCodes.ModelNotFound, Assert.Throws<DsgException>(() => QuantizePipeline.Run(Request() with { ModelPath = Path.Combine(_dir, "none.onnx") })).Code);
        var wrongData = Path.Combine(_dir, "wrong.npy");
        Dsg.Core.Data.NpyFile.WriteFloat32(wrongData, new float[4 * 3 * 8 * 8], [4, 3, 8, 8]);
        var e = Assert.Throws<DsgException>(() => QuantizePipeline.Run(Request("W8A8", new FileCalibrationSource(wrongData))));
        Assert.Equal(ErrorCodes.CalibrationDataShapeMismatch, e.Code);
        Assert.Contains("(3, 8, 8)", e.Message);
    }

    private sealed class InlineProgress(Action<PipelineEvent> report) : IProgress<PipelineEvent>
    {
        public void Report(PipelineEvent value) => report(value);
    }
}
