using Dsg.Core.Graph;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using Dsg.Tests.Shared;
using static TorchSharp.torch;

namespace Dsg.Core.Tests.Graph;

/// <summary>
/// The input convention fitted to the first Conv and its BatchNorm. The BN statistics of the hand-built models are
/// measured by running the executor on images with a known convention (half of each pixel's variance independent,
/// half shared by the whole channel of an image), so the fit is checked against real convolutions, padding included.
/// </summary>
public sealed class InputConventionInferenceTests
{
    private const int Channels = 3;
    private const int Filters = 12;

    [Fact]
    public void AConvAndItsBatchNormGiveBackTheMeanAndStdOfRawPixels()
    {
        var model = MeasuredModel([120, 120, 120], [60, 60, 60], chain: null, pads: [1, 1, 1, 1], strides: [1, 1]);
        var convention = InputConventionInference.Infer(model);
        Assert.Equal(InputConvention.Inferred, convention.Source);
        Assert.Contains("Conv 'conv'", convention.Detail);
        Assert.Contains("BatchNormalization 'bn'", convention.Detail);
        for (int c = 0; c < Channels; c++)
        {
            Assert.InRange(convention.Mean[c], 120 * 0.97, 120 * 1.03);
            Assert.InRange(convention.Std[c], 60 * 0.95, 60 * 1.05);
        }
    }

    [Fact]
    public void PerChannelMeansAreFittedSeparatelyWithStridedAsymmetricPadding()
    {
        var model = MeasuredModel([100, 130, 160], [50, 50, 50], chain: null, pads: [0, 1, 2, 1], strides: [2, 2]);
        var convention = InputConventionInference.Infer(model);
        Assert.Equal(InputConvention.Inferred, convention.Source);
        double[] expected = [100, 130, 160];
        for (int c = 0; c < Channels; c++)
        {
            Assert.InRange(convention.Mean[c], expected[c] - 5, expected[c] + 5);
            Assert.InRange(convention.Std[c], 50 * 0.95, 50 * 1.05);
        }
    }

    [Fact]
    public void ASubDivChainInFrontIsComposedBackToTheModelsInputSpace()
    {
        // The model normalises BGR pixels itself: (x - mean[c]) / std[c]; the convolution sees N(0, 1).
        double[] mean = [104, 117, 123], std = [57, 58, 60];
        var model = MeasuredModel(mean, std, chain: (mean, std), pads: [1, 1, 1, 1], strides: [1, 1]);
        var convention = InputConventionInference.Infer(model);
        Assert.Equal(InputConvention.Inferred, convention.Source);
        Assert.Contains("through Sub", convention.Detail);
        Assert.Contains("Div", convention.Detail);
        for (int c = 0; c < Channels; c++)
        {
            Assert.InRange(convention.Mean[c], mean[c] - 3, mean[c] + 3);
            Assert.InRange(convention.Std[c], std[c] * 0.95, std[c] * 1.05);
        }
    }

    [Fact]
    public void WithoutAConvFollowedByBatchNormTheConventionIsAssumedWithTheReason()
    {
        var b = new OnnxGraphBuilder().Input("x", null, 3, 8, 8).Output("y", null, 4, 8, 8);
        var relu = b.Node("Relu", ["x"]);
        var random = new Random(1);
        b.Node("Conv", [relu, b.RandomWeight("w", random, 0.5, 4, 3, 3, 3)], ["y"], OnnxGraphBuilder.Ints("pads", 1, 1, 1, 1));
        var convention = InputConventionInference.Infer(b.Build());
        Assert.Equal(InputConvention.Assumed, convention.Source);
        Assert.Equal([0.0], convention.Mean);
        Assert.Equal([1.0], convention.Std);
        Assert.Contains("Relu", convention.Detail);

        var c = new OnnxGraphBuilder().Input("x", null, 3, 8, 8).Output("y", null, 4, 8, 8);
        var conv = c.Node("Conv", ["x", c.RandomWeight("w", random, 0.5, 4, 3, 3, 3)], null, OnnxGraphBuilder.Ints("pads", 1, 1, 1, 1));
        c.Node("Relu", [conv], ["y"]);
        var noBatchNorm = InputConventionInference.Infer(c.Build());
        Assert.Equal(InputConvention.Assumed, noBatchNorm.Source);
        Assert.Contains("not only BatchNormalization", noBatchNorm.Detail);
    }

    [Fact]
    public void ADegenerateFitFallsBackToAssumed()
    {
        // All-zero kernels: the BN statistics say nothing about the input.
        var b = new OnnxGraphBuilder().Input("x", null, 1, 6, 6).Output("y", null, 2, 6, 6);
        var conv = b.Node("Conv", ["x", b.Weight("w", new double[18], 2, 1, 3, 3)], null, OnnxGraphBuilder.Ints("pads", 1, 1, 1, 1));
        b.Node("BatchNormalization", [conv, b.Weight("g", [1, 1], 2), b.Weight("be", [0, 0], 2), b.Weight("m", [0.5, 0.5], 2), b.Weight("v", [1, 1], 2)], ["y"]);
        var convention = InputConventionInference.Infer(b.Build());
        Assert.Equal(InputConvention.Assumed, convention.Source);
        Assert.Contains("degenerate", convention.Detail);
    }

    /// <summary>
    /// The assets were trained on (p/255 − 0.2860)/0.3530, so their inputs have mean about 0 and std about 1.
    /// Measured: resnet mean 0.0019 std 1.001, mobilenetv2 mean 0.017 std 1.025. The fit is not exact by
    /// construction (its variance model mixes independent and fully correlated pixels half and half, and the BN running
    /// statistics are moving averages over augmented training batches), so the bounds (|mean| ≤ 0.1, std 0.9 to 1.1)
    /// are four times the larger measured error; they still tell this convention from every other common one
    /// ([0, 1]: mean 0.29 std 0.35; [0, 255]: std about 90; (x − 0.5)/0.5: mean −0.43 std 0.71).
    /// </summary>
    [Theory]
    [InlineData("resnet_fmnist.onnx")]
    [InlineData("mobilenetv2_fmnist.onnx")]
    public void OnTheFashionMnistAssetsTheInferredConventionIsNearTheirNormalisation(string file)
    {
        var convention = InputConventionInference.Infer(OnnxModel.Load(RepoPaths.Model(file)));
        Assert.Equal(InputConvention.Inferred, convention.Source);
        Assert.Single(convention.Mean);
        Assert.InRange(convention.Mean[0], -0.1, 0.1);
        Assert.InRange(convention.Std[0], 0.9, 1.1);
    }

    [Fact]
    public void DeclaredFieldsWinOverInferredOnesAndARangeClampsWhatIsInferred()
    {
        var model = MeasuredModel([120, 120, 120], [60, 60, 60], chain: null, pads: [1, 1, 1, 1], strides: [1, 1]);
        var meanOnly = InputConventionInference.Resolve(model, new InputConventionDeclaration(Mean: [100]));
        Assert.Equal([100.0, 100, 100], meanOnly.Mean);
        Assert.InRange(meanOnly.Std[1], 57, 63);
        Assert.Equal(InputConvention.Inferred, meanOnly.Source);
        Assert.StartsWith("mean declared; std inferred from Conv 'conv'", meanOnly.Detail);

        var both = InputConventionInference.Resolve(model, new InputConventionDeclaration([1, 2, 3], [4]));
        Assert.Equal([1.0, 2, 3], both.Mean);
        Assert.Equal([4.0, 4, 4], both.Std);
        Assert.Equal(InputConvention.Declared, both.Source);

        var clamped = InputConventionInference.Resolve(model, new InputConventionDeclaration(Range: new InputRange(0, 100)));
        Assert.All(clamped.Mean, m => Assert.Equal(100, m));
        Assert.All(clamped.Std, s => Assert.InRange(s, 49, 50));
        Assert.Equal(new InputRange(0, 100), clamped.Range);
        Assert.Contains("clamped", clamped.Detail);
    }

    [Fact]
    public void ARangeAloneOnAModelWithoutEvidenceGivesItsMiddleAndAQuarterOfItsWidth()
    {
        var b = new OnnxGraphBuilder().Input("x", null, 3, 4, 4).Output("y", null, 3, 4, 4);
        b.Node("Relu", ["x"], ["y"]);
        var convention = InputConventionInference.Resolve(b.Build(), new InputConventionDeclaration(Range: new InputRange(0, 255)));
        Assert.Equal([127.5, 127.5, 127.5], convention.Mean);
        Assert.Equal([63.75, 63.75, 63.75], convention.Std);
        Assert.Equal(InputConvention.Declared, convention.Source);
    }

    [Theory]
    [InlineData(new[] { 1.0, 2.0 }, null, "--input-mean has 2 values")]
    [InlineData(null, new[] { 1.0, 2.0, 3.0, 4.0 }, "--input-std has 4 values")]
    [InlineData(null, new[] { 0.0 }, "must be positive")]
    public void DeclaredListsThatDoNotFitTheChannelsAreBadOptions(double[]? mean, double[]? std, string message)
    {
        var b = new OnnxGraphBuilder().Input("x", null, 3, 4, 4).Output("y", null, 3, 4, 4);
        b.Node("Relu", ["x"], ["y"]);
        var e = Assert.Throws<DsgException>(() => InputConventionInference.Resolve(b.Build(), new InputConventionDeclaration(mean, std)));
        Assert.Equal(ErrorCodes.BadOption, e.Code);
        Assert.Contains(message, e.Message);
        Assert.False(string.IsNullOrWhiteSpace(e.Hint));
    }

    [Fact]
    public void AMeanOutsideTheDeclaredRangeIsABadOption()
    {
        var b = new OnnxGraphBuilder().Input("x", null, 1, 4, 4).Output("y", null, 1, 4, 4);
        b.Node("Relu", ["x"], ["y"]);
        var e = Assert.Throws<DsgException>(() => InputConventionInference.Resolve(b.Build(), new InputConventionDeclaration([300], [50], new InputRange(0, 255))));
        Assert.Equal(ErrorCodes.BadOption, e.Code);
        Assert.Contains("outside the input range", e.Message);
    }

    /// <summary>
    /// Input (1×3×H×W) → [Sub mean, Div std] → Conv 3→12, 3×3 → BatchNormalization → Relu, whose BN running
    /// statistics are the measured mean and variance of the Conv output over 1024 images x = m + s·z, where z is half
    /// independent N(0, 1) pixels and half one N(0, 1) value per image and channel.
    /// </summary>
    private static OnnxModel MeasuredModel(double[] mean, double[] std, (double[] Mean, double[] Std)? chain, long[] pads, long[] strides)
    {
        const int size = 14;
        var placeholder = Enumerable.Repeat(1.0, Filters).ToArray();
        OnnxModel Build(double[] runningMean, double[] runningVariance)
        {
            var b = new OnnxGraphBuilder().Input("x", null, Channels, size, size).Output("y", null, Filters, null, null);
            string current = "x";
            if (chain is { } affine)
            {
                current = b.Node("Sub", [current, b.Weight("mean", affine.Mean, 1, Channels, 1, 1)]);
                current = b.Node("Div", [current, b.Weight("std", affine.Std, 1, Channels, 1, 1)]);
            }

            var weight = b.RandomWeight("w", new Random(3), chain is null ? 0.02 : 0.5, Filters, Channels, 3, 3);
            var bias = b.RandomWeight("b", new Random(4), 0.5, Filters);
            var conv = b.Node("Conv", [current, weight, bias], ["conv_out"],
                OnnxGraphBuilder.Ints("pads", pads), OnnxGraphBuilder.Ints("strides", strides), OnnxGraphBuilder.Ints("kernel_shape", 3, 3));
            b.Graph.Node[^1].Name = "conv";
            var bn = b.Node("BatchNormalization", [conv, b.Weight("gamma", placeholder, Filters), b.Weight("beta", new double[Filters], Filters),
                b.Weight("running_mean", runningMean, Filters), b.Weight("running_var", runningVariance, Filters)]);
            b.Graph.Node[^1].Name = "bn";
            b.Node("Relu", [bn], ["y"]);
            return b.Build();
        }

        var probe = Build(new double[Filters], placeholder);
        using var graph = TorchGraph.Create(probe);
        using var scope = NewDisposeScope();
        using var generator = new Generator(11);
        const int n = 1024;
        var shared = randn([n, Channels, 1, 1], generator: generator);
        var independent = randn([n, Channels, size, size], generator: generator);
        var z = shared.Plus(independent).Times(Math.Sqrt(0.5));
        var x = (z * tensor(std.Select(v => (float)v).ToArray(), [1, Channels, 1, 1])).Plus(tensor(mean.Select(v => (float)v).ToArray(), [1, Channels, 1, 1]));
        var captured = graph.Forward(x, ForwardCapture.BatchNormInputs).BatchNormInputs[0].to(float64);
        var measuredMean = captured.mean([0, 2, 3]).data<double>().ToArray();
        var measuredVariance = captured.var([0, 2, 3], unbiased: false).data<double>().ToArray();
        return Build(measuredMean, measuredVariance);
    }
}
