using Dsg.Core.Data;
using Dsg.Core.Graph;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Quantization.Refinement;

/// <summary>A weight whose rounding a block learns: its initializer, the fp32 layer and the nearest rounding (scales and grid kept).</summary>
internal sealed record BlockWeight(string Initializer, string Node, WeightedLayer Layer, QuantizedWeight Nearest);

/// <summary>What <see cref="BlockReconstruction"/> learned for one block.</summary>
/// <param name="Weights">The learned weights by initializer (the nearest rounding's where <paramref name="Kept"/> is false).</param>
/// <param name="Activations">The learned activation parameters by tensor (the calibrated ones where <paramref name="Kept"/> is false).</param>
/// <param name="NearestError">The block's reconstruction error with nearest rounding and calibrated activations, over every sample.</param>
/// <param name="LearnedError">The same with the learned rounding and step sizes.</param>
/// <param name="Kept">Whether the learned values were kept (they are unless they reconstruct the block worse than nearest rounding).</param>
internal sealed record BlockResult(IReadOnlyDictionary<string, QuantizedWeight> Weights, IReadOnlyDictionary<string, QuantParams> Activations,
    double NearestError, double LearnedError, bool Kept);

/// <summary>
/// BRECQ on one block (Li et al., "BRECQ: Pushing the Limit of Post-Training Quantization by Block Reconstruction", ICLR
/// 2021) with QDrop's activation dropping (Wei et al., "QDrop: Randomly Dropping Quantization for Extremely Low-bit
/// Post-Training Quantization", ICLR 2022): the block runs as a graph of its own (<see cref="BlockModel"/>), fed the
/// block input the quantized model gives it mixed value by value with the fp32 model's (<see cref="MixInputs"/>), with every weight it learns soft-rounded as in AdaRound and every
/// activation it quantizes fake-quantized with a learned step size (LSQ: the rounding passes the gradient straight
/// through, the step size gets the gradient of the quantized value) from the calibrated one. During learning each
/// activation value keeps its full-precision value instead of its quantized one with probability
/// <see cref="DropProbability"/>. The loss is ‖ŷ − y‖² of each block output against the fp32 model's (summed over
/// channels, averaged over samples and positions), plus AdaRound's rounding regulariser summed over the block's weights.
/// </summary>
internal static class BlockReconstruction
{
    /// <summary>QDrop's probability of keeping an activation value unquantized while learning (the paper's 0.5).</summary>
    public const double DropProbability = 0.5;

    /// <summary>
    /// Adam's learning rate for an activation's step size, as a fraction of its calibrated step size. QDrop's reference
    /// code uses 4e-5 in absolute terms over 20,000 steps; over this project's 200 (<see cref="AdaRoundSettings.DefaultIterations"/>)
    /// that moves a step size by at most 0.008 whatever its size, which left the 4-bit per-tensor min/max ranges of the
    /// paper recipe almost where calibration put them. A rate relative to the calibrated step size lets each step size
    /// move by the same fraction (at most RelativeScaleLearningRate × 200 of it over the default steps); the value
    /// was chosen by measurement (docs/quantization.md, "QDrop's block input and step sizes learned at a relative rate").
    /// </summary>
    public const double RelativeScaleLearningRate = 1e-2;

    /// <summary>Learns one block.</summary>
    /// <param name="graph">The block as a graph (<see cref="BlockModel.Build"/>): input 0 the block input, one input per learned weight.</param>
    /// <param name="block">The block.</param>
    /// <param name="weights">The weights to learn (graph inputs of <paramref name="graph"/> by initializer name).</param>
    /// <param name="sites">The activations the block quantizes, with their calibrated parameters.</param>
    /// <param name="inputs">The block input from the quantized model, one row per calibration sample.</param>
    /// <param name="fullPrecisionInputs">The fp32 model's block input on the same samples (QDrop mixes it into <paramref name="inputs"/>, <see cref="MixInputs"/>).</param>
    /// <param name="targets">Each block output of the fp32 model on the same samples, in <see cref="GraphBlock.Outputs"/> order.</param>
    /// <param name="settings">Steps, batch, the rounding's optimiser and regulariser.</param>
    /// <param name="stepDone">Called after each step with the step count and the batch's reconstruction error.</param>
    /// <param name="ct">Checked before every step.</param>
    /// <exception cref="DsgException">DSG0713 when the loss stops being finite.</exception>
    public static BlockResult Run(TorchGraph graph, GraphBlock block, IReadOnlyList<BlockWeight> weights, IReadOnlyList<ActivationCalibration> sites,
        CalibrationSet inputs, CalibrationSet fullPrecisionInputs, IReadOnlyList<CalibrationSet> targets, AdaRoundSettings settings, Action<int, double>? stepDone, CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        using var k = new SoftRoundingConstants();
        using var lambda = settings.RegularizerWeight.ToScalar();
        using var drop = DropProbability.ToScalar();
        var roundings = new List<LearnedRounding>();
        var quantizers = new List<LearnedStepSize>();
        try
        {
            roundings.AddRange(weights.Select(w => new LearnedRounding(w, k, settings.LearningRate)));
            quantizers.AddRange(sites.Select(s => new LearnedStepSize(s)));
            using var generator = new Generator((ulong)settings.Seed);
            var random = new Random(settings.Seed);
            int batch = Math.Min(settings.BatchSize, inputs.Count);
            var xBuffer = new float[batch * inputs.SampleSize];
            var fullPrecisionBuffer = new float[batch * inputs.SampleSize];
            var yBuffers = targets.Select(t => new float[batch * t.SampleSize]).ToArray();
            var order = Enumerable.Range(0, inputs.Count).ToArray();
            var dropping = quantizers.ToDictionary(q => q.Tensor, q => (Func<Tensor, Tensor>)(t => q.Apply(t, learned: true, generator, drop)),
                StringComparer.Ordinal);
            for (int step = 0; step < settings.Iterations; step++)
            {
                ct.ThrowIfCancellationRequested();
                using var stepScope = NewDisposeScope();
                LayerReconstruction.Shuffle(random, order, batch);
                var x = MixInputs(LayerReconstruction.Gather(inputs, order, batch, xBuffer),
                    LayerReconstruction.Gather(fullPrecisionInputs, order, batch, fullPrecisionBuffer), generator, drop);
                var feed = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [block.Input] = x };
                foreach (var r in roundings)
                {
                    feed[r.Initializer] = r.Soft();
                }

                var outputs = graph.Run(feed, dropping);
                Tensor error = null!;
                for (int o = 0; o < block.Outputs.Count; o++)
                {
                    var y = LayerReconstruction.Gather(targets[o], order, batch, yBuffers[o]);
                    var e = LayerReconstruction.Error(outputs[block.Outputs[o]], y);
                    error = o == 0 ? e : error.Plus(e);
                }

                double value = error.item<float>();
                if (!double.IsFinite(value))
                {
                    throw new DsgException(ErrorCodes.RefinementNotFinite,
                        $"Block reconstruction's error became {value} at step {step + 1} of the block at '{block.Input}': the block's inputs or outputs hold values out of float range.",
                        "Quantize without refinement (--refine none), or check the model with `dotnet dsg inspect --verify`.");
                }

                Tensor loss = error;
                if (settings.Beta(step) is { } beta)
                {
                    using var b = beta.ToScalar();
                    foreach (var r in roundings)
                    {
                        loss = loss.add(SoftRounding.Regularizer(r.Logits, b, k), lambda);
                    }
                }

                TorchGraph.Backward(loss);
                foreach (var r in roundings)
                {
                    r.Step();
                }

                foreach (var q in quantizers)
                {
                    q.Step();
                }

                stepDone?.Invoke(step + 1, value);
            }

            double nearestError = FullError(graph, block, inputs, targets, roundings.ToDictionary(r => r.Initializer, r => r.Nearest()),
                quantizers, learned: false);
            double learnedError = FullError(graph, block, inputs, targets, roundings.ToDictionary(r => r.Initializer, r => r.Hard()),
                quantizers, learned: true);
            bool kept = learnedError <= nearestError;
            return new BlockResult(
                roundings.ToDictionary(r => r.Initializer, r => kept ? r.Learned() : r.Source.Nearest, StringComparer.Ordinal),
                quantizers.ToDictionary(q => q.Tensor, q => kept ? q.LearnedParams() : q.Calibrated, StringComparer.Ordinal),
                nearestError, learnedError, kept);
        }
        finally
        {
            foreach (var r in roundings)
            {
                r.Dispose();
            }

            foreach (var q in quantizers)
            {
                q.Dispose();
            }
        }
    }

    /// <summary>
    /// QDrop's block input while learning: each value is the quantized model's with probability
    /// 1 − <paramref name="drop"/> and the fp32 model's otherwise (the reference code draws the two per element, as it
    /// drops the activation quantization inside the block).
    /// </summary>
    internal static Tensor MixInputs(Tensor quantized, Tensor fullPrecision, Generator generator, Scalar drop)
    {
        using var scope = NewDisposeScope();
        var keepFullPrecision = torch.rand(quantized.shape, generator: generator, dtype: quantized.dtype, device: quantized.device).lt(drop);
        return torch.where(keepFullPrecision, fullPrecision, quantized).MoveToOuterDisposeScope();
    }

    /// <summary>The block's reconstruction error over every sample with the given weights, activations quantized (nothing dropped).</summary>
    private static double FullError(TorchGraph graph, GraphBlock block, CalibrationSet inputs, IReadOnlyList<CalibrationSet> targets,
        IReadOnlyDictionary<string, Tensor> weights, IReadOnlyList<LearnedStepSize> quantizers, bool learned)
    {
        using var noGrad = torch.no_grad();
        var quantize = quantizers.ToDictionary(q => q.Tensor, q => (Func<Tensor, Tensor>)(t => q.Apply(t, learned, null, null)), StringComparer.Ordinal);
        double sum = 0;
        long read = 0;
        foreach (var (start, count) in inputs.Batches(64))
        {
            read += ((long)inputs.SampleSize + targets.Sum(t => (long)t.SampleSize)) * count * sizeof(float);
            if (read >= Runtime.ActivationBatcher.ReleaseThresholdBytes)
            {
                Runtime.ActivationBatcher.ReleaseOutputs(read);
                read = 0;
            }

            using var scope = NewDisposeScope();
            var feed = new Dictionary<string, Tensor>(weights, StringComparer.Ordinal)
            {
                [block.Input] = torch.tensor(inputs.Values(start, count).ToArray(), inputs.BatchShape(count)),
            };
            var outputs = graph.Run(feed, quantize);
            for (int o = 0; o < block.Outputs.Count; o++)
            {
                var y = torch.tensor(targets[o].Values(start, count).ToArray(), targets[o].BatchShape(count));
                sum += LayerReconstruction.Error(outputs[block.Outputs[o]], y).item<float>() * count;
            }
        }

        return sum / inputs.Count;
    }

    /// <summary>One weight's AdaRound rounding: W̃ = s·clamp(⌊W/s⌋ + h(V), qmin, qmax), learned with Adam.</summary>
    private sealed class LearnedRounding : IDisposable
    {
        private readonly SoftRoundingConstants _k;
        private readonly Tensor _scale;
        private readonly Tensor _floor;
        private readonly Scalar _qmin;
        private readonly Scalar _qmax;
        private readonly AdamState _adam;

        public LearnedRounding(BlockWeight source, SoftRoundingConstants k, double learningRate)
        {
            Source = source;
            _k = k;
            var nearest = source.Nearest;
            var dims = source.Layer.Dims;
            var scaleShape = Enumerable.Repeat(1L, dims.Length).ToArray();
            scaleShape[nearest.Axis] = dims[nearest.Axis];
            _scale = torch.tensor(nearest.Scales, scaleShape).DetachFromDisposeScope();
            using var w = torch.tensor(source.Layer.Weight, dims);
            using var ratio = w.div(_scale);
            _floor = ratio.floor().DetachFromDisposeScope();
            _qmin = ((double)nearest.Grid.QMin).ToScalar();
            _qmax = ((double)nearest.Grid.QMax).ToScalar();
            using var fraction = ratio.sub(_floor);
            using var logits = SoftRounding.InitialLogits(fraction);
            Logits = new TorchSharp.Modules.Parameter(logits.detach().clone(), requires_grad: true);
            Logits.DetachFromDisposeScope();
            _adam = new AdamState(Logits, learningRate);
        }

        public BlockWeight Source { get; }

        public string Initializer => Source.Initializer;

        public TorchSharp.Modules.Parameter Logits { get; }

        public Tensor Soft() => _floor.add(SoftRounding.Rectify(Logits, _k), _k.One).clamp(_qmin, _qmax).mul(_scale);

        public Tensor Hard()
        {
            using var scope = NewDisposeScope();
            return Integers().mul(_scale).MoveToOuterDisposeScope();
        }

        public Tensor Nearest()
        {
            using var scope = NewDisposeScope();
            var values = torch.tensor(Source.Nearest.Values.Select(q => (float)q).ToArray(), Source.Layer.Dims);
            return values.mul(_scale).MoveToOuterDisposeScope();
        }

        public QuantizedWeight Learned()
        {
            using var scope = NewDisposeScope();
            var integers = Integers();
            var values = integers.to_type(ScalarType.Int8).data<sbyte>().ToArray();
            var dequantized = integers.mul(_scale).data<float>().ToArray();
            return Source.Nearest with { Values = values, SqnrDb = Sqnr.Compute(Source.Layer.Weight, dequantized) };
        }

        public void Step()
        {
            if (Logits.grad is not null)
            {
                _adam.Step();
            }
        }

        public void Dispose()
        {
            _adam.Dispose();
            Logits.Dispose();
            _scale.Dispose();
            _floor.Dispose();
            _qmin.Dispose();
            _qmax.Dispose();
        }

        private Tensor Integers()
        {
            using var noGrad = torch.no_grad();
            return _floor.add(SoftRounding.HardRounding(Logits), _k.One).clamp(_qmin, _qmax);
        }
    }
}
