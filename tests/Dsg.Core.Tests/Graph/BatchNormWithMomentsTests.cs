using Dsg.Core;
using Dsg.Core.Data;
using Dsg.Core.Graph;
using Dsg.Core.Graph.Execution;
using Dsg.Core.Onnx;
using Dsg.Tests.Shared;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Dsg.Core.Tests.Graph;

/// <summary>
/// The BatchNorm layer fused with its input's moments (one read forward, one pass backward) against libtorch's batch
/// norm and var_mean with autograd: outputs, moments and the input gradient, on the kernels' path and on the fallback.
/// </summary>
public sealed class BatchNormWithMomentsTests
{
    [Theory]
    [InlineData(new long[] { 3, 4, 5, 6 })]     // 30 positions: vector body and a scalar tail
    [InlineData(new long[] { 2, 3, 64, 72 })]   // 4,608 positions: more than one float block per row
    [InlineData(new long[] { 5, 7 })]           // one position per row
    [InlineData(new long[] { 2, 3, 9 })]
    [InlineData(new long[] { 8, 16, 48, 48 })]  // 295 k values: rows split over threads
    public void OutputMomentsAndGradientMatchLibtorch(long[] shape)
    {
        int previous = get_num_threads();
        set_num_threads(2);
        try
        {
            using var scope = NewDisposeScope();
            using var generator = new Generator(17);
            var layer = Layer(shape[1], generator);
            var source = randn(shape, generator: generator).Times(2L).Plus(0.75);
            var outputWeights = randn(shape, generator: generator);
            var momentWeights = randn([shape[0], shape[1]], generator: generator);
            var squareWeights = randn([shape[0], shape[1]], generator: generator);

            var reference = source.detach().clone().requires_grad_(true);
            var expectedOutput = F.batch_norm(reference, layer.Mean, layer.Variance, layer.Scale, layer.Bias, training: false, eps: layer.Epsilon);
            var flat = reference.reshape(shape[0], shape[1], -1);
            var (variance, expectedMean) = flat.var_mean(2, unbiased: false);
            var expectedMeanSquare = variance.Plus(expectedMean.square());
            Loss(expectedOutput, expectedMean, expectedMeanSquare).backward();

            var input = source.detach().clone().requires_grad_(true);
            Assert.True(ChannelMomentKernels.Applies(input));
            var (output, mean, meanSquare) = BatchNormWithMoments.TryRun(input, layer)!.Value;
            Loss(output, mean, meanSquare).backward();

            AssertClose(expectedOutput, output, 1e-5, "output");
            AssertClose(expectedMean, mean, 1e-5, "mean");
            AssertClose(expectedMeanSquare, meanSquare, 1e-5, "mean square");
            AssertClose(reference.grad!, input.grad!, 1e-4, "input gradient");

            Tensor Loss(Tensor y, Tensor m, Tensor q) =>
                (y * outputWeights).sum().Plus((m * momentWeights).sum()).Plus((q * squareWeights).sum());
        }
        finally
        {
            set_num_threads(previous);
        }
    }

    [Fact]
    public void AnInputTheKernelsCannotReadIsLeftToTheLayersOwnKernel()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        var layer = Layer(4, generator);
        var source = randn([3, 4, 6, 5], generator: generator);
        Assert.Null(BatchNormWithMoments.TryRun(source.transpose(2, 3), layer));
        Assert.Null(BatchNormWithMoments.TryRun(source.to(ScalarType.Float64), layer));
        Assert.Null(BatchNormWithMoments.TryRun(source, Layer(5, generator)));
        Assert.NotNull(BatchNormWithMoments.TryRun(source, layer));
    }

    [Theory]
    [InlineData(ScalarType.Float32, true, false)]
    [InlineData(ScalarType.Float32, false, true)]
    [InlineData(ScalarType.Float64, true, false)]
    [InlineData(ScalarType.Float64, false, true)]
    [InlineData(ScalarType.Float64, true, true)]
    public void ChannelMomentsMatchVarMeanOnBothPathsWhenOnlySomeMomentsAreRead(ScalarType type, bool readMean, bool readSquare)
    {
        // Float32 takes the one-read kernel, float64 libtorch's sum and norm; a moment nobody reads gets no gradient.
        using var scope = NewDisposeScope();
        using var generator = new Generator(13);
        var source = randn([3, 4, 5, 5], generator: generator).Plus(0.5).to(type);
        var weights = randn([3, 4], generator: generator).to(type);

        var reference = source.detach().clone().requires_grad_(true);
        var (variance, expectedMean) = reference.reshape(3, 4, -1).var_mean(2, unbiased: false);
        Pick(expectedMean, variance.Plus(expectedMean.square())).backward();

        var input = source.detach().clone().requires_grad_(true);
        var (mean, meanSquare) = ChannelMoments.Of(input);
        Pick(mean, meanSquare).backward();

        AssertClose(expectedMean, mean, 1e-5, "mean");
        AssertClose(reference.grad!, input.grad!, 1e-4, "input gradient");

        Tensor Pick(Tensor m, Tensor q) =>
            readMean && readSquare ? (m * weights).sum().Plus((q * weights).sum())
            : readMean ? (m * weights).sum()
            : (q * weights).sum();
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void AnUnusedOutputOrUnusedMomentsAddNothingToTheGradient(bool useOutput, bool useMoments)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(9);
        var layer = Layer(3, generator);
        var source = randn([2, 3, 7, 7], generator: generator);

        var reference = source.detach().clone().requires_grad_(true);
        var expectedOutput = F.batch_norm(reference, layer.Mean, layer.Variance, layer.Scale, layer.Bias, training: false, eps: layer.Epsilon);
        var (variance, expectedMean) = reference.reshape(2, 3, -1).var_mean(2, unbiased: false);
        Pick(expectedOutput, expectedMean, variance.Plus(expectedMean.square())).backward();

        var input = source.detach().clone().requires_grad_(true);
        var (output, mean, meanSquare) = BatchNormWithMoments.TryRun(input, layer)!.Value;
        Pick(output, mean, meanSquare).backward();

        AssertClose(reference.grad!, input.grad!, 1e-4, "input gradient");

        Tensor Pick(Tensor y, Tensor m, Tensor q) =>
            useOutput && useMoments ? y.square().sum().Plus(m.sum()).Plus(q.sum())
            : useOutput ? y.square().sum()
            : m.square().sum().Plus(q.sum());
    }

    [Fact]
    public void TheGraphsMomentsCaptureIsTheCapturedInputsMomentsWithTheSameOutputAndGradient()
    {
        using var graph = TorchGraph.Create(OnnxModel.Load(RepoPaths.Model("resnet_fmnist.onnx")));
        var (images, shape) = NpyFile.ReadFloat32(RepoPaths.Data("fmnist_test_64.npy"));
        using var scope = NewDisposeScope();
        var batch = tensor(images, shape)[..16];
        using var generator = new Generator(3);
        var weights = graph.BatchNormLayers.Select(l => randn([16, l.Channels], generator: generator)).ToList();

        var tapped = batch.detach().clone().requires_grad_(true);
        var taps = graph.Forward(tapped, ForwardCapture.BatchNormInputs);
        var expected = taps.BatchNormInputs.Select(x =>
        {
            var (variance, mean) = x.reshape(x.shape[0], x.shape[1], -1).var_mean(2, unbiased: false);
            return (Mean: mean, MeanSquare: variance.Plus(mean.square()));
        }).ToList();
        Loss(taps.Outputs[0], expected).backward();

        var measured = batch.detach().clone().requires_grad_(true);
        var pass = graph.Forward(measured, ForwardCapture.BatchNormMoments);
        Assert.Empty(pass.BatchNormInputs);
        Assert.Equal(graph.BatchNormLayers.Count, pass.BatchNormMoments.Count);
        Loss(pass.Outputs[0], pass.BatchNormMoments).backward();

        AssertClose(taps.Outputs[0], pass.Outputs[0], 1e-4, "logits");
        for (int l = 0; l < expected.Count; l++)
        {
            AssertClose(expected[l].Mean, pass.BatchNormMoments[l].Mean, 1e-4, $"layer {l} mean");
            AssertClose(expected[l].MeanSquare, pass.BatchNormMoments[l].MeanSquare, 1e-4, $"layer {l} mean square");
        }

        AssertClose(tapped.grad!, measured.grad!, 1e-3, "input gradient");

        Tensor Loss(Tensor logits, IReadOnlyList<(Tensor Mean, Tensor MeanSquare)> moments)
        {
            var sum = logits.square().sum();
            for (int l = 0; l < moments.Count; l++)
            {
                sum = sum.Plus((moments[l].Mean * weights[l]).sum()).Plus((moments[l].MeanSquare * weights[l].square()).sum());
            }

            return sum;
        }
    }

    private static BatchNormLayer Layer(long channels, Generator generator) => new(0, "bn", "x",
        randn([channels], generator: generator).Plus(1.0),
        randn([channels], generator: generator),
        randn([channels], generator: generator),
        rand([channels], generator: generator).Plus(0.5),
        1e-5);

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        double scale = Math.Max(1.0, expected.detach().abs().max().to(ScalarType.Float64).item<double>());
        double difference = (expected.detach() - actual.detach()).abs().max().to(ScalarType.Float64).item<double>();
        Assert.True(difference <= tolerance * scale, $"{what}: largest difference {difference} (scale {scale})");
    }
}
