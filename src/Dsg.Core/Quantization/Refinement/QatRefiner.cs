using System.Diagnostics;
using Dsg.Core.Data;
using Dsg.Core.Graph;
using Dsg.Core.Graph.Execution;
using Dsg.Core.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Quantization.Refinement;

/// <summary>
/// Quantization-aware fine-tuning on the calibration samples, as the DSG paper's fine-tuning row does it: the fp32 model
/// is the teacher, the fake-quantized model the student (the whole graph as one <see cref="BlockModel"/>: every weight
/// the plan quantizes with a learnable full-precision value quantized on its nearest rounding's per-channel grid in the
/// forward pass and passed straight through in the backward pass, every activation with a learned step size as in
/// <see cref="LearnedStepSize"/>, the input quantized with its calibrated parameters). The loss is the KL divergence
/// from the teacher's class distribution to the student's for class scores (logits or probabilities) and the squared
/// error otherwise, for <see cref="AdaRoundSettings.Iterations"/> Adam steps on random batches. The biases of the
/// quantized layers are learned too, in full precision with the weights' learning rate, as the paper fine-tunes every
/// parameter (the QDQ model stores them as int32 on a step far finer than any 4- or 8-bit grid, so what is learned is
/// what runs). The learned integers go into the QDQ model with the nearest rounding's scales, the learned biases replace
/// the folded ones and the learned step sizes the calibrated ones; if the fine-tuned student matches the teacher worse
/// over every sample than the nearest-rounded one, nothing learned is kept. Weights the plan quantizes that QAT cannot
/// learn (ConvTranspose, Gemm with transA or a matrix C: <see cref="WeightedLayer"/> does not compute them) are graph inputs as well,
/// fed their nearest rounding in the student and their fp32 values in the teacher.
/// With <see cref="AdaRoundSettings.Augment"/> (the default) each batch of images is shifted and flipped at random
/// (<see cref="Augment"/>) and the teacher, the same graph with the fp32 weights and biases, runs on what the student
/// sees: 128 fixed synthetic images are few for fine-tuning every weight, and without it the student fits them at the
/// cost of the data they stand for (docs/quantization.md).
/// The paper also adds a BatchNorm-statistics term: with <see cref="AdaRoundSettings.StatisticsWeight"/> above zero, the
/// loss adds that weight times the mean, over the folded BatchNorms the graph computes, of the squared distance between
/// the student's batch mean and standard deviation per channel at the folded convolution's output (before its
/// activation is quantized) and the BatchNorm's β and |γ| (<see cref="FoldedBatchNorm"/>), each averaged over
/// channels. Its default weight is zero: on synthetic images, whose statistics DSG deliberately lets stray from the
/// BatchNorms', it pulls the student away from the teacher (measured in docs/quantization.md).
/// </summary>
public static class QatRefiner
{
    /// <summary>Adam's learning rate for the weights (the step sizes use <see cref="BlockReconstruction.RelativeScaleLearningRate"/>).</summary>
    public const double WeightLearningRate = 1e-4;

    /// <summary>Fine-tunes the whole quantized model against the fp32 one.</summary>
    /// <param name="folded">The BN-folded fp32 model the plan was made for.</param>
    /// <param name="statistics">The BatchNorms folded into it (<see cref="BatchNormFolder.FoldWithStatistics"/>); read when the settings weigh them.</param>
    /// <param name="plan">The plan.</param>
    /// <param name="activations">The calibrated activations.</param>
    /// <param name="samples">The calibration samples.</param>
    /// <param name="options">The quantization options (weight grids and ranges, ONNX Runtime batch and threads).</param>
    /// <param name="settings">Steps (in all) and batch.</param>
    /// <param name="progress">Reported every few steps.</param>
    /// <param name="ct">Checked between steps.</param>
    /// <exception cref="DsgException">DSG0713 when the loss is not finite; DSG0714 when the graph does not have one input; DSG0709 when ONNX Runtime fails.</exception>
    public static RefinedWeights Refine(OnnxModel folded, IReadOnlyList<FoldedBatchNorm> statistics, QuantizationPlan plan, IReadOnlyList<ActivationCalibration> activations,
        CalibrationSet samples, QuantizationOptions options, AdaRoundSettings settings, IProgress<RefinementProgress>? progress = null,
        CancellationToken ct = default)
    {
        settings = RefinableWeights.Prepare(folded, plan, activations, samples, options, settings);
        var watch = Stopwatch.StartNew();
        var learnable = RefinableWeights.Of(folded, plan);
        var block = BlockPartition.Whole(folded, learnable.Select(l => l.Site.Node).ToHashSet(StringComparer.Ordinal));
        var weights = learnable.Select(l => new BlockWeight(l.Site.Initializer, l.Site.Node, l.Layer, RefinableWeights.Nearest(l.Site, l.Layer, options))).ToList();
        var learnedHere = weights.Select(w => w.Initializer).ToHashSet(StringComparer.Ordinal);
        var fixedWeights = plan.Weights.Where(w => !learnedHere.Contains(w.Initializer)).DistinctBy(w => w.Initializer, StringComparer.Ordinal)
            .ToDictionary(w => w.Initializer, w => RefinableWeights.Dequantized(folded, w, new Dictionary<string, QuantizedWeight>(), options), StringComparer.Ordinal);
        var sites = block.QuantizedInside(activations, folded);
        var inputSite = activations.FirstOrDefault(a => a.Site.Tensor == block.Input);
        var calibratedInputs = activations.Select(a => a.Site.Tensor).ToHashSet(StringComparer.Ordinal);
        var learnedNodes = weights.Select(w => w.Node).ToHashSet(StringComparer.Ordinal);
        var biasSites = plan.Biases.Where(b => learnedNodes.Contains(b.Node) && calibratedInputs.Contains(b.ActivationTensor))
            .DistinctBy(b => b.Initializer, StringComparer.Ordinal).ToList();
        var initializers = folded.Initializers;
        var produced = block.Nodes.SelectMany(n => n.Output).ToHashSet(StringComparer.Ordinal);
        var held = settings.StatisticsWeight > 0 ? statistics.Where(b => produced.Contains(b.Tensor)).ToList() : [];

        var targets = new List<CalibrationSet>();
        var steps = new List<LearnedStepSize>();
        var learned = new List<FineTunedWeight>();
        var biases = new List<FineTunedBias>();
        try
        {
            AdaRoundRefiner.CollectEach(folded, block.Outputs, samples, options, targets, ct);

            var inputs = weights.ToDictionary(w => w.Initializer, w => w.Layer.Dims, StringComparer.Ordinal);
            foreach (var name in biasSites.Select(b => b.Initializer).Concat(fixedWeights.Keys))
            {
                inputs[name] = OnnxTensor.Shape(initializers[name]);
            }

            // The quantized weights QAT cannot learn are graph inputs too, fed dequantized to the student and in fp32 to the teacher.
            var sub = BlockModel.Build(folded, block, samples.SampleShape, inputs, new Dictionary<string, float[]>());
            using var graph = TorchGraph.Create(sub);
            using var scope = NewDisposeScope();
            var kinds = targets.Select(t => ClassScores(t)).ToArray();
            learned.AddRange(weights.Select(w => new FineTunedWeight(w)));
            biases.AddRange(biasSites.Select(b => new FineTunedBias(b.Initializer, OnnxTensor.ToFloats(initializers[b.Initializer], folded), OnnxTensor.Shape(initializers[b.Initializer]))));
            steps.AddRange(sites.Select(s => new LearnedStepSize(s)));
            using var input = inputSite is null ? null : new LearnedStepSize(inputSite);
            var fixedStudent = fixedWeights.ToDictionary(f => f.Key, f => torch.tensor(f.Value, inputs[f.Key]), StringComparer.Ordinal);
            var quantize = steps.ToDictionary(q => q.Tensor, q => (Func<Tensor, Tensor>)(t => q.Apply(t, learned: true, null, null)), StringComparer.Ordinal);
            // The student's per-channel batch moments at each folded BatchNorm's output, as it runs, and their targets.
            var studentMoments = new Dictionary<string, (Tensor Mean, Tensor Std)>(StringComparer.Ordinal);
            var targetMoments = held.ToDictionary(b => b.Tensor, b => (Mean: torch.tensor(b.Mean), Std: torch.tensor(b.Std)), StringComparer.Ordinal);
            foreach (var b in held)
            {
                var then = quantize.GetValueOrDefault(b.Tensor);
                quantize[b.Tensor] = t =>
                {
                    // Held outside the graph's own scopes (which end with each node) until the step's loss has read them.
                    studentMoments[b.Tensor] = Moments(t);
                    return then is null ? t : then(t);
                };
            }

            // Shifted and flipped images have no precomputed targets: the fp32 teacher runs on each batch as the student sees it.
            bool augment = settings.Augments(samples.SampleShape);
            // The teacher: the same graph fed every weight and bias it takes as an input at its folded fp32 value.
            var teacherWeights = augment
                ? inputs.ToDictionary(i => i.Key, i => torch.tensor(OnnxTensor.ToFloats(initializers[i.Key], folded), i.Value), StringComparer.Ordinal)
                : null;

            var random = new Random(settings.Seed);
            int batch = Math.Min(settings.BatchSize, samples.Count);
            var xBuffer = new float[batch * samples.SampleSize];
            var yBuffers = targets.Select(t => new float[batch * t.SampleSize]).ToArray();
            var order = Enumerable.Range(0, samples.Count).ToArray();
            int every = Math.Max(1, settings.Iterations / 50);
            for (int step = 0; step < settings.Iterations; step++)
            {
                ct.ThrowIfCancellationRequested();
                using var stepScope = NewDisposeScope();
                LayerReconstruction.Shuffle(random, order, batch);
                var x = LayerReconstruction.Gather(samples, order, batch, xBuffer);
                if (augment)
                {
                    x = Augment(x, random);
                }

                var feed = new Dictionary<string, Tensor>(fixedStudent, StringComparer.Ordinal) { [block.Input] = input?.Apply(x, learned: false, null, null) ?? x };
                foreach (var w in learned)
                {
                    feed[w.Initializer] = w.Quantized();
                }

                foreach (var b in biases)
                {
                    feed[b.Initializer] = b.Value;
                }

                IReadOnlyDictionary<string, Tensor>? teacherOutputs = null;
                if (teacherWeights is not null)
                {
                    using var noGrad = torch.no_grad();
                    teacherOutputs = graph.Run(new Dictionary<string, Tensor>(teacherWeights, StringComparer.Ordinal) { [block.Input] = x });
                }

                var outputs = graph.Run(feed, quantize);
                Tensor loss = null!;
                for (int o = 0; o < block.Outputs.Count; o++)
                {
                    var y = teacherOutputs is not null ? teacherOutputs[block.Outputs[o]] : LayerReconstruction.Gather(targets[o], order, batch, yBuffers[o]);
                    var term = Distance(outputs[block.Outputs[o]], y, kinds[o]);
                    loss = o == 0 ? term : loss.Plus(term);
                }

                if (held.Count > 0)
                {
                    var terms = held.Select(b => StatisticsDistance(studentMoments[b.Tensor], targetMoments[b.Tensor])).ToList();
                    loss = loss.Plus(torch.stack(terms).mean().Times(settings.StatisticsWeight));
                    foreach (var m in studentMoments.Values)
                    {
                        m.Mean.Dispose();
                        m.Std.Dispose();
                    }
                }

                double value = loss.item<float>();
                if (!double.IsFinite(value))
                {
                    throw new DsgException(ErrorCodes.RefinementNotFinite,
                        $"Quantization-aware fine-tuning's loss became {value} at step {step + 1}: the model's outputs hold values out of float range.",
                        "Quantize without refinement (--refine none), or check the model with `dotnet dsg inspect --verify`.");
                }

                TorchGraph.Backward(loss);
                foreach (var w in learned)
                {
                    w.Step();
                }

                foreach (var b in biases)
                {
                    b.Step();
                }

                foreach (var q in steps)
                {
                    q.Step();
                }

                if ((step + 1) % every == 0 || step + 1 == settings.Iterations)
                {
                    progress?.Report(new RefinementProgress(1, 1, block.WeightNodes[0], step + 1, settings.Iterations, value, "model"));
                }
            }

            var nearestFeed = new Dictionary<string, Tensor>(fixedStudent, StringComparer.Ordinal);
            var learnedFeed = new Dictionary<string, Tensor>(fixedStudent, StringComparer.Ordinal);
            foreach (var w in learned)
            {
                nearestFeed[w.Initializer] = w.Nearest();
                learnedFeed[w.Initializer] = w.Hard();
            }

            foreach (var b in biases)
            {
                nearestFeed[b.Initializer] = b.Folded();
                learnedFeed[b.Initializer] = b.Learned();
            }

            double before = FullLoss(graph, block, samples, targets, kinds, input, nearestFeed, steps, learnedSteps: false);
            double after = FullLoss(graph, block, samples, targets, kinds, input, learnedFeed, steps, learnedSteps: true);
            bool kept = after <= before;
            var result = learned.ToDictionary(w => w.Initializer, w => kept ? w.Learned() : w.Source.Nearest, StringComparer.Ordinal);
            double seconds = watch.Elapsed.TotalSeconds;
            var reports = weights.Select(w => new LayerRefinement(w.Node, w.Initializer, settings.Iterations, before, after,
                result[w.Initializer].Values.Zip(w.Nearest.Values).Count(p => p.First != p.Second) / (double)Math.Max(1, w.Nearest.Values.Length),
                seconds / weights.Count)).ToList();
            var stepSizes = steps.ToDictionary(q => q.Tensor, q => kept ? q.LearnedParams() : q.Calibrated, StringComparer.Ordinal);
            var learnedBiases = kept ? biases.ToDictionary(b => b.Initializer, b => b.Learned().data<float>().ToArray(), StringComparer.Ordinal) : null;
            return new RefinedWeights(result, reports, stepSizes, learnedBiases);
        }
        finally
        {
            foreach (var t in targets)
            {
                t.Dispose();
            }

            foreach (var q in steps)
            {
                q.Dispose();
            }

            foreach (var w in learned)
            {
                w.Dispose();
            }

            foreach (var b in biases)
            {
                b.Dispose();
            }
        }
    }

    /// <summary>Whether the teacher's output holds class scores (a distribution is compared), judged on its first samples.</summary>
    private static OutputKind ClassScores(CalibrationSet target)
    {
        using var scope = NewDisposeScope();
        int n = Math.Min(target.Count, 64);
        return target.SampleShape.Length == 1
            ? OutputKindDetector.FromValues(torch.tensor(target.Values(0, n).ToArray(), target.BatchShape(n)))
            : OutputKind.Dense;
    }

    /// <summary>
    /// <paramref name="activation"/>'s batch mean and standard deviation per channel (axis 1; every other axis pooled),
    /// detached from every dispose scope (the caller disposes them).
    /// </summary>
    internal static (Tensor Mean, Tensor Std) Moments(Tensor activation)
    {
        using var scope = NewDisposeScope();
        var pooled = Enumerable.Range(0, (int)activation.dim()).Where(d => d != 1).Select(d => (long)d).ToArray();
        var m = activation.mean(pooled);
        var s = activation.var(pooled, unbiased: false).Plus(1e-6).sqrt();
        return (m.DetachFromDisposeScope(), s.DetachFromDisposeScope());
    }

    /// <summary>Each image of the batch shifted by up to an eighth of its size (reflected at the border) and flipped left-right at random.</summary>
    internal static Tensor Augment(Tensor x, Random random)
    {
        using var scope = NewDisposeScope();
        long h = x.shape[2];
        long w = x.shape[3];
        long p = Math.Max(1, Math.Min(h, w) / 8);
        var padded = torch.nn.functional.pad(x, [p, p, p, p], PaddingModes.Reflect);
        var images = new List<Tensor>();
        for (long i = 0; i < x.shape[0]; i++)
        {
            var image = padded[i].narrow(1, random.Next((int)(2 * p + 1)), h).narrow(2, random.Next((int)(2 * p + 1)), w);
            images.Add(random.Next(2) == 0 ? image : image.flip(2));
        }

        return torch.stack(images).MoveToOuterDisposeScope();
    }

    /// <summary>The squared distance between two sets of moments, each averaged over channels, summed.</summary>
    internal static Tensor StatisticsDistance((Tensor Mean, Tensor Std) student, (Tensor Mean, Tensor Std) target)
    {
        using var scope = NewDisposeScope();
        return student.Mean.sub(target.Mean).square().mean().Plus(student.Std.sub(target.Std).square().mean()).MoveToOuterDisposeScope();
    }

    /// <summary>KL(teacher ‖ student) over the classes, averaged over samples, for class scores; ‖ŷ − y‖² otherwise.</summary>
    private static Tensor Distance(Tensor student, Tensor teacher, OutputKind kind)
    {
        using var scope = NewDisposeScope();
        Tensor result;
        switch (kind)
        {
            case OutputKind.Logits:
            case OutputKind.LogProbabilities:
                var t = teacher.log_softmax(1);
                result = t.exp().mul(t.sub(student.log_softmax(1))).sum(1).mean();
                break;
            case OutputKind.Probabilities:
                using (var tiny = 1e-12.ToScalar())
                {
                    var pt = teacher.clamp_min(tiny);
                    result = pt.mul(pt.log().sub(student.clamp_min(tiny).log())).sum(1).mean();
                }

                break;
            default:
                result = LayerReconstruction.Error(student, teacher);
                break;
        }

        return result.MoveToOuterDisposeScope();
    }

    private static double FullLoss(TorchGraph graph, GraphBlock block, CalibrationSet samples, IReadOnlyList<CalibrationSet> targets, OutputKind[] kinds,
        LearnedStepSize? input, IReadOnlyDictionary<string, Tensor> weights, IReadOnlyList<LearnedStepSize> steps, bool learnedSteps)
    {
        using var noGrad = torch.no_grad();
        var quantize = steps.ToDictionary(q => q.Tensor, q => (Func<Tensor, Tensor>)(t => q.Apply(t, learnedSteps, null, null)), StringComparer.Ordinal);
        double sum = 0;
        foreach (var (start, count) in samples.Batches(64))
        {
            using var scope = NewDisposeScope();
            var x = torch.tensor(samples.Values(start, count).ToArray(), samples.BatchShape(count));
            var feed = new Dictionary<string, Tensor>(weights, StringComparer.Ordinal) { [block.Input] = input?.Apply(x, learned: false, null, null) ?? x };
            var outputs = graph.Run(feed, quantize);
            for (int o = 0; o < block.Outputs.Count; o++)
            {
                var y = torch.tensor(targets[o].Values(start, count).ToArray(), targets[o].BatchShape(count));
                sum += Distance(outputs[block.Outputs[o]], y, kinds[o]).item<float>() * count;
            }
        }

        return sum / samples.Count;
    }

    /// <summary>A weight fine-tuned in full precision and quantized on its nearest rounding's grid in each forward pass.</summary>
    private sealed class FineTunedWeight : IDisposable
    {
        private readonly Tensor _scale;
        private readonly Scalar _qmin;
        private readonly Scalar _qmax;
        private readonly TorchSharp.Modules.Parameter _weight;
        private readonly AdamState _adam;

        public FineTunedWeight(BlockWeight source)
        {
            Source = source;
            var dims = source.Layer.Dims;
            var scaleShape = Enumerable.Repeat(1L, dims.Length).ToArray();
            scaleShape[source.Nearest.Axis] = dims[source.Nearest.Axis];
            _scale = torch.tensor(source.Nearest.Scales, scaleShape).DetachFromDisposeScope();
            _qmin = ((double)source.Nearest.Grid.QMin).ToScalar();
            _qmax = ((double)source.Nearest.Grid.QMax).ToScalar();
            _weight = new TorchSharp.Modules.Parameter(torch.tensor(source.Layer.Weight, dims), requires_grad: true);
            _weight.DetachFromDisposeScope();
            _adam = new AdamState(_weight, WeightLearningRate);
        }

        public BlockWeight Source { get; }

        public string Initializer => Source.Initializer;

        /// <summary>s·clamp(⌊W/s⌉, qmin, qmax) with the rounding's gradient passed straight through.</summary>
        public Tensor Quantized()
        {
            using var scope = NewDisposeScope();
            var u = _weight.div(_scale);
            return u.Plus(u.round().sub(u).detach()).clamp(_qmin, _qmax).mul(_scale).MoveToOuterDisposeScope();
        }

        public Tensor Hard()
        {
            using var scope = NewDisposeScope();
            return Integers().mul(_scale).MoveToOuterDisposeScope();
        }

        public Tensor Nearest()
        {
            using var scope = NewDisposeScope();
            return torch.tensor(Source.Nearest.Values.Select(q => (float)q).ToArray(), Source.Layer.Dims).mul(_scale).MoveToOuterDisposeScope();
        }

        public QuantizedWeight Learned()
        {
            using var scope = NewDisposeScope();
            var integers = Integers();
            return Source.Nearest with
            {
                Values = integers.to_type(ScalarType.Int8).data<sbyte>().ToArray(),
                SqnrDb = Sqnr.Compute(Source.Layer.Weight, integers.mul(_scale).data<float>().ToArray()),
            };
        }

        public void Step()
        {
            if (_weight.grad is not null)
            {
                _adam.Step();
            }
        }

        public void Dispose()
        {
            _adam.Dispose();
            _weight.Dispose();
            _scale.Dispose();
            _qmin.Dispose();
            _qmax.Dispose();
        }

        private Tensor Integers()
        {
            using var noGrad = torch.no_grad();
            return _weight.div(_scale).round().clamp(_qmin, _qmax);
        }
    }

    /// <summary>A bias fine-tuned in full precision (stored as int32 on a step of input scale × weight scale).</summary>
    private sealed class FineTunedBias : IDisposable
    {
        private readonly float[] _folded;
        private readonly long[] _shape;
        private readonly TorchSharp.Modules.Parameter _bias;
        private readonly AdamState _adam;

        public FineTunedBias(string initializer, float[] folded, long[] shape)
        {
            Initializer = initializer;
            _folded = folded;
            _shape = shape;
            _bias = new TorchSharp.Modules.Parameter(torch.tensor(folded, shape), requires_grad: true);
            _bias.DetachFromDisposeScope();
            _adam = new AdamState(_bias, WeightLearningRate);
        }

        public string Initializer { get; }

        /// <summary>The learnable bias, as the student reads it.</summary>
        public Tensor Value => _bias;

        /// <summary>The folded model's bias.</summary>
        public Tensor Folded() => torch.tensor(_folded, _shape);

        /// <summary>The learned bias, detached.</summary>
        public Tensor Learned() => _bias.detach().clone();

        public void Step()
        {
            if (_bias.grad is not null)
            {
                _adam.Step();
            }
        }

        public void Dispose()
        {
            _adam.Dispose();
            _bias.Dispose();
        }
    }
}
