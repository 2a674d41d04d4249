using Dsg.Core.Graph;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using static Dsg.Core.Tests.Graph.OnnxGraphBuilder;
using static TorchSharp.torch;

namespace Dsg.Core.Tests.Graph;

/// <summary>What the first output holds, on small graphs shaped like the heads exporters write.</summary>
public sealed class OutputKindDetectorTests
{
    /// <summary>input [batch,1,8,8] → Conv (4 channels, same size) → BatchNormalization → Relu; returns the Relu output (N×4×8×8).</summary>
    private static string Backbone(OnnxGraphBuilder b, Random random)
    {
        b.Input("input", null, 1, 8, 8);
        var conv = b.Node("Conv", ["input", b.RandomWeight("w1", random, 0.5, 4, 1, 3, 3)], null, Ints("pads", 1, 1, 1, 1));
        var bn = b.Node("BatchNormalization", [conv, b.Weight("g", [1, 1, 1, 1], 4), b.Weight("beta", [0, 0.1, 0, 0.1], 4),
            b.Weight("m", [0, 0, 0, 0], 4), b.Weight("v", [1, 1, 1, 1], 4)]);
        return b.Node("Relu", [bn]);
    }

    /// <summary>Backbone → GlobalAveragePool → Flatten: one 4-vector of features per sample.</summary>
    private static string Features(OnnxGraphBuilder b, Random random) =>
        b.Node("Flatten", [b.Node("GlobalAveragePool", [Backbone(b, random)])], null, Int("axis", 1));

    private static string Classifier(OnnxGraphBuilder b, Random random, string? output = null) =>
        b.Node("Gemm", [Features(b, random), b.RandomWeight("fc_w", random, 0.5, 3, 4), b.RandomWeight("fc_b", random, 0.1, 3)],
            output is null ? null : [output], Int("transB", 1));

    private static OnnxModel Head(Func<OnnxGraphBuilder, Random, string> head, string outputName, params long?[] dims)
    {
        var b = new OnnxGraphBuilder();
        var random = new Random(3);
        var tensor = head(b, random);
        b.Node("Identity", [tensor], [outputName]);
        b.Output(outputName, dims);
        return b.Build();
    }

    private static TorchGraph Executor(OnnxModel model) => TorchGraph.Create(model, new TorchGraphOptions(null, "cpu"));

    [Fact]
    public void AGemmClassifierGivesLogitsFromTheGraphAlone()
    {
        var detected = OutputKindDetector.Detect(TestModels.SmallCnn());

        Assert.Equal(OutputKind.Logits, detected.Kind);
        Assert.Equal(OutputKindSource.Graph, detected.Source);
        Assert.Equal("logits", detected.Name);
        Assert.Equal("Gemm", detected.ProducerOp);
        Assert.Equal("[N,3]", detected.ShapeText);
        Assert.Equal(1, detected.OutputCount);
        Assert.True(detected.IsClassScore);
    }

    [Fact]
    public void ASoftmaxHeadGivesProbabilitiesNamingTheNode()
    {
        var model = Head((b, r) => b.Node("Softmax", [Classifier(b, r)], ["prob_raw"], Int("axis", 1)), "prob", null, 3);
        var detected = OutputKindDetector.Detect(model);

        Assert.Equal(OutputKind.Probabilities, detected.Kind);
        Assert.Equal("Softmax", detected.ProducerOp);
        Assert.StartsWith("probabilities [N,3] (Softmax 'Softmax_", detected.Describe());
        Assert.True(detected.IsClassScore);
    }

    [Fact]
    public void ALogSoftmaxHeadGivesLogProbabilities()
    {
        var model = Head((b, r) => b.Node("LogSoftmax", [Classifier(b, r)], null, Int("axis", 1)), "log_prob", null, 3);
        var detected = OutputKindDetector.Detect(model);

        Assert.Equal(OutputKind.LogProbabilities, detected.Kind);
        Assert.Equal("log-probabilities", detected.KindName);
        Assert.True(detected.IsClassScore);
    }

    [Fact]
    public void GlobalAveragePoolingToNByCByOneByOneIsAnEmbedding()
    {
        var model = Head((b, r) => b.Node("GlobalAveragePool", [Backbone(b, r)]), "features", null, 4, 1, 1);
        var detected = OutputKindDetector.Detect(model);

        Assert.Equal(OutputKind.Embedding, detected.Kind);
        Assert.Equal(OutputKindSource.Graph, detected.Source);
        Assert.StartsWith("embedding [N,4,1,1] (GlobalAveragePool 'GlobalAveragePool_", detected.Describe());
        Assert.False(detected.IsClassScore);
    }

    [Fact]
    public void AFlattenedFeatureVectorWithoutAClassifierIsAnEmbeddingWithoutAProbe()
    {
        var model = Head(Features, "features", null, 4);
        using var graph = Executor(model);

        // Pooling makes features, never rows that sum to 1: the graph settles it and the probe is not run.
        var detected = OutputKindDetector.Detect(model, probe: graph);
        Assert.Equal(OutputKind.Embedding, detected.Kind);
        Assert.Equal(OutputKindSource.Graph, detected.Source);
        Assert.Equal("GlobalAveragePool", detected.ProducerOp);
        Assert.Equal("[N,4]", detected.ShapeText);
    }

    [Fact]
    public void AVectorFromANodeThatMightNormaliseIsProbedAndStaysAnEmbeddingWhenItsRowsDoNotSumToOne()
    {
        var model = Head((b, r) => b.Node("Mul", [Features(b, r), b.Weight("scale", [0.5], 1)]), "features", null, 4);

        var guess = OutputKindDetector.Detect(model);
        Assert.Equal(OutputKind.Embedding, guess.Kind);
        Assert.Equal(OutputKindSource.Graph, guess.Source);

        using var graph = Executor(model);
        var probed = OutputKindDetector.Detect(model, probe: graph);
        Assert.Equal(OutputKind.Embedding, probed.Kind);
        Assert.Equal(OutputKindSource.Probe, probed.Source);
        Assert.Equal("Mul", probed.ProducerOp);
    }

    [Fact]
    public void ASoftmaxWrittenOutAsExpOverItsSumIsFoundByTheProbe()
    {
        var model = Head((b, r) =>
        {
            var exp = b.Node("Exp", [Classifier(b, r)]);
            var sum = b.Node("ReduceSum", [exp, b.Int64s("axes", 1)], null, Int("keepdims", 1));
            return b.Node("Div", [exp, sum]);
        }, "prob", null, 3);

        Assert.Equal(OutputKind.Embedding, OutputKindDetector.Detect(model).Kind);
        var detected = OutputKindDetector.Detect(model, requested: null, new TorchGraphOptions(null, "cpu"));
        Assert.Equal(OutputKind.Probabilities, detected.Kind);
        Assert.Equal(OutputKindSource.Probe, detected.Source);
        Assert.Equal("Div", detected.ProducerOp);
    }

    [Fact]
    public void AnNByKByHByWMapIsDenseWhateverComputesIt()
    {
        var conv = Head((b, r) => b.Node("Conv", [Backbone(b, r), b.RandomWeight("seg_w", r, 0.5, 5, 4, 1, 1)]), "mask", null, 5, 8, 8);
        var softmax = Head((b, r) => b.Node("Softmax", [b.Node("Conv", [Backbone(b, r), b.RandomWeight("seg_w", r, 0.5, 5, 4, 1, 1)])], null, Int("axis", 1)),
            "mask", null, 5, 8, 8);

        foreach (var model in new[] { conv, softmax })
        {
            var detected = OutputKindDetector.Detect(model);
            Assert.Equal(OutputKind.Dense, detected.Kind);
            Assert.Equal(OutputKindSource.Graph, detected.Source);
            Assert.Equal("[N,5,8,8]", detected.ShapeText);
        }
    }

    [Fact]
    public void WithTwoOutputsTheFirstDecides()
    {
        OnnxModel TwoOutputs(bool probabilitiesFirst)
        {
            var b = new OnnxGraphBuilder();
            var logits = Classifier(b, new Random(3), "logits");
            b.Node("Softmax", [logits], ["prob"], Int("axis", 1));
            return (probabilitiesFirst ? b.Output("prob", null, 3).Output("logits", null, 3) : b.Output("logits", null, 3).Output("prob", null, 3)).Build();
        }

        var first = OutputKindDetector.Detect(TwoOutputs(probabilitiesFirst: true));
        Assert.Equal(OutputKind.Probabilities, first.Kind);
        Assert.Equal(2, first.OutputCount);
        Assert.EndsWith("; the first of 2 outputs decides", first.Describe());
        Assert.Equal(OutputKind.Logits, OutputKindDetector.Detect(TwoOutputs(probabilitiesFirst: false)).Kind);
    }

    [Fact]
    public void AMatMulWithItsBiasAddIsAClassifierAndAResidualAddIsNot()
    {
        var matMul = Head((b, r) => b.Node("Add", [b.Node("MatMul", [Features(b, r), b.RandomWeight("w", r, 0.5, 4, 3)]), b.RandomWeight("bias", r, 0.1, 3)]),
            "logits", null, 3);
        Assert.Equal(OutputKind.Logits, OutputKindDetector.Detect(matMul).Kind);

        var residual = Head((b, r) =>
        {
            var features = Features(b, r);
            return b.Node("Add", [features, b.Node("Relu", [features])]);
        }, "features", null, 4);
        Assert.Equal(OutputKind.Embedding, OutputKindDetector.Detect(residual).Kind);
    }

    [Fact]
    public void AnUndeclaredShapeIsTakenFromTheProbe()
    {
        var b = new OnnxGraphBuilder();
        Classifier(b, new Random(3), "logits");
        b.Graph.Output.Add(new ValueInfoProto { Name = "logits" });
        var model = b.Build();

        Assert.Equal("[?]", OutputKindDetector.Detect(model).ShapeText);
        Assert.Equal(OutputKind.Logits, OutputKindDetector.Detect(model).Kind);
        using var graph = Executor(model);
        var probed = OutputKindDetector.Detect(model, probe: graph);
        Assert.Equal(OutputKind.Logits, probed.Kind);
        Assert.Equal("[N,3]", probed.ShapeText);
        Assert.Equal(OutputKindSource.Probe, probed.Source);
    }

    [Fact]
    public void ARequestedKindIsKeptWhenTheShapeAllowsItAndAClassKindOnAMapIsDsg0601()
    {
        var embedding = OutputKindDetector.Detect(TestModels.SmallCnn(), OutputKind.Embedding);
        Assert.Equal(OutputKind.Embedding, embedding.Kind);
        Assert.Equal(OutputKindSource.Requested, embedding.Source);
        Assert.Contains("as set by --output-kind", embedding.Describe());

        var features = Head((b, r) => b.Node("GlobalAveragePool", [Backbone(b, r)]), "features", null, 4, 1, 1);
        Assert.Equal(OutputKind.Logits, OutputKindDetector.Detect(features, OutputKind.Logits).Kind);

        var map = Head((b, r) => b.Node("Conv", [Backbone(b, r), b.RandomWeight("seg_w", r, 0.5, 5, 4, 1, 1)]), "mask", null, 5, 8, 8);
        Assert.Equal(OutputKind.Dense, OutputKindDetector.Detect(map, OutputKind.Dense).Kind);
        foreach (var kind in new[] { OutputKind.Logits, OutputKind.Probabilities })
        {
            var e = Assert.Throws<DsgException>(() => OutputKindDetector.Detect(map, kind));
            Assert.Equal(ErrorCodes.OutputNotClassScores, e.Code);
            Assert.Contains("'mask'", e.Message);
            Assert.Contains("[N,5,8,8]", e.Message);
            Assert.Contains("--output-kind auto", e.Hint);
            Assert.Contains("--without class", e.Hint);
        }
    }

    [Theory]
    [InlineData("auto", null)]
    [InlineData("Logits", OutputKind.Logits)]
    [InlineData("probabilities", OutputKind.Probabilities)]
    [InlineData("EMBEDDING", OutputKind.Embedding)]
    [InlineData("dense", OutputKind.Dense)]
    public void RequestedKindsParseInAnyCase(string text, OutputKind? kind) => Assert.Equal(kind, OutputKindDetector.ParseRequested(text));

    [Fact]
    public void AnUnknownRequestedKindIsAnOptionError() =>
        Assert.Equal(ErrorCodes.BadOption, Assert.Throws<DsgException>(() => OutputKindDetector.ParseRequested("log-probabilities")).Code);

    [Fact]
    public void ValuesAloneTellMapsProbabilitiesAndLogitsApart()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 2, -1, 0.5f, 0, 3, 1 }, [2, 3]);
        Assert.Equal(OutputKind.Logits, OutputKindDetector.FromValues(logits));
        Assert.Equal(OutputKind.Probabilities, OutputKindDetector.FromValues(logits.softmax(1)));
        Assert.Equal(OutputKind.Probabilities, OutputKindDetector.FromValues(logits.softmax(1).reshape(2, 3, 1, 1)));
        Assert.Equal(OutputKind.Dense, OutputKindDetector.FromValues(zeros(2, 3, 4, 4)));
        Assert.Equal(OutputKind.Embedding, OutputKindDetector.FromValues(zeros(2, 1)));
    }
}
