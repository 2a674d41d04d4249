using Dsg.Core.Generation;
using Dsg.Core.Graph.Execution;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Tests.Generation;

/// <summary>
/// A tiny conv-BN-ReLU network (1×14×14 → 10 logits, their softmax, or the last 6×7×7 feature map) with fixed
/// random weights, implementing the same shape of data as TorchGraph: the output, the pre-BN activation of each BN
/// layer, penultimate features. Its BN running
/// statistics are measured on smooth, shifted images, so they differ from what N(0, 1) noise produces.
/// </summary>
internal sealed class TinyBatchNormModel : IGenerationModel, IDisposable
{
    private readonly Tensor _conv1;
    private readonly Tensor _conv2;
    private readonly Tensor _fc;
    private readonly Tensor _fcBias;
    private readonly Tensor _scale1;
    private readonly Tensor _scale2;

    public TinyBatchNormModel(long seed = 7, bool withBatchNorm = true, TinyHead head = TinyHead.Logits, bool poisoned = false)
    {
        // As every product path does before its first convolution (a wrong oneDNN backward is switched off there).
        Dsg.Core.Graph.Execution.TorchRuntime.EnsureLoaded();
        _head = head;
        _poisoned = poisoned;
        using var generator = new Generator((ulong)seed);
        _conv1 = randn([4, 1, 3, 3], generator: generator).Times(0.5).DetachFromDisposeScope();
        _conv2 = randn([6, 4, 3, 3], generator: generator).Times(0.3).DetachFromDisposeScope();
        _fc = randn([10, 6], generator: generator).Times(0.5).DetachFromDisposeScope();
        _fcBias = zeros(10).DetachFromDisposeScope();
        _scale1 = rand([4], generator: generator).Plus(0.5).DetachFromDisposeScope();
        _scale2 = rand([6], generator: generator).Plus(0.5).DetachFromDisposeScope();
        var targets = new List<BatchNormTarget>();
        if (withBatchNorm)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            using var gate = OneDnnConvolutionGuard.Enter(ConvolutionKernels.Native);
            var coarse = randn([64, 1, 7, 7], generator: generator);
            var real = nn.functional.interpolate(coarse, size: [14, 14], mode: InterpolationMode.Bilinear, align_corners: false).Times(0.8).Plus(0.3);
            var a1 = nn.functional.conv2d(real, _conv1, padding: [1, 1]);
            targets.Add(Measure("bn1", a1));
            var h1 = nn.functional.relu(Normalize(a1, targets[0], _scale1));
            var a2 = nn.functional.conv2d(h1, _conv2, strides: [2, 2], padding: [1, 1]);
            targets.Add(Measure("bn2", a2));
        }

        BatchNorms = targets;
    }

    private readonly TinyHead _head;
    private readonly bool _poisoned;

    public long[] InputShape { get; } = [1, 14, 14];

    public Device Device => CPU;

    public IReadOnlyList<BatchNormTarget> BatchNorms { get; }

    public int ForwardCalls { get; private set; }

    public ModelPass Forward(Tensor input, bool captureBatchNormMoments, bool captureFeatures) =>
        // Its convolutions wait while another test's graph runs with oneDNN where oneDNN is wrong for some shapes.
        OneDnnConvolutionGuard.Run(ConvolutionKernels.Native, () => Run(input, captureBatchNormMoments, captureFeatures)) with { Kernels = ConvolutionKernels.Native };

    private ModelPass Run(Tensor input, bool captureBatchNormMoments, bool captureFeatures)
    {
        ForwardCalls++;
        var captured = new List<Tensor>();
        var a1 = nn.functional.conv2d(input, _conv1, padding: [1, 1]);
        if (_poisoned)
        {
            a1 = a1.Times(double.NaN);
        }

        var h1 = nn.functional.relu(BatchNorms.Count > 0 ? Normalize(a1, BatchNorms[0], _scale1) : a1);
        var a2 = nn.functional.conv2d(h1, _conv2, strides: [2, 2], padding: [1, 1]);
        var h2 = nn.functional.relu(BatchNorms.Count > 1 ? Normalize(a2, BatchNorms[1], _scale2) : a2);
        if (captureBatchNormMoments && BatchNorms.Count > 0)
        {
            captured.Add(a1);
            captured.Add(a2);
        }

        var features = h2.mean([2, 3]);
        var output = nn.functional.linear(features, _fc, _fcBias);
        var result = _head switch
        {
            TinyHead.Probabilities => nn.functional.softmax(output, 1),
            TinyHead.Map => h2,
            _ => output,
        };
        return Passes.FromActivations(result, captured, captureFeatures ? features : null);
    }

    public void Dispose()
    {
        foreach (var t in new[] { _conv1, _conv2, _fc, _fcBias, _scale1, _scale2 })
        {
            t.Dispose();
        }

        foreach (var bn in BatchNorms)
        {
            bn.Dispose();
        }
    }

    private static Tensor Normalize(Tensor a, BatchNormTarget bn, Tensor scale) =>
        ((a - bn.Mean.view(1, -1, 1, 1)) / bn.Sigma.view(1, -1, 1, 1) * scale.view(1, -1, 1, 1)).Plus(0.1);

    private static BatchNormTarget Measure(string name, Tensor activation)
    {
        var perChannel = activation.transpose(0, 1).reshape(activation.shape[1], -1);
        return BatchNormTarget.FromRunningStatistics(name, perChannel.mean([1]), perChannel.var(1), 1e-5, CPU);
    }
}

/// <summary>What <see cref="TinyBatchNormModel"/> outputs.</summary>
internal enum TinyHead
{
    /// <summary>N×10 logits.</summary>
    Logits,

    /// <summary>Their softmax: N×10 rows that sum to 1.</summary>
    Probabilities,

    /// <summary>The last feature map, N×6×7×7: a dense output.</summary>
    Map,
}
