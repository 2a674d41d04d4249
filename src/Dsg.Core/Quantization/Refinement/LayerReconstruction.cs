using Dsg.Core.Data;
using Dsg.Core.Graph.Execution;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Quantization.Refinement;

/// <summary>
/// AdaRound on one layer: with the scales of the nearest-rounded weight fixed, learns V so that the layer with weights
/// s·clamp(⌊W/s⌋ + h(V), qmin, qmax), fed the inputs the quantized model gives it, reproduces the fp32 layer's output
/// (‖f_a(W̃x̃) − f_a(Wx)‖² summed over channels and averaged over samples and positions, f_a the Relu or Clip that follows
/// the layer if any, plus λ·f_reg once the warm-up is over),
/// with Adam on random batches of the calibration samples; then rounds hard (h(V) ≥ 0.5 up).
/// </summary>
internal static class LayerReconstruction
{
    /// <summary>Learns the rounding of <paramref name="layer"/>'s weight.</summary>
    /// <param name="layer">The layer (its fp32 weight and bias).</param>
    /// <param name="nearest">The weight rounded to nearest: its scales and grid are kept, its integers are the baseline.</param>
    /// <param name="inputs">The layer's input from the quantized model, one row per calibration sample.</param>
    /// <param name="targets">The fp32 layer's output on the same samples.</param>
    /// <param name="settings">Steps, batch, optimiser and regulariser.</param>
    /// <param name="stepDone">Called after each step with the step count and the reconstruction loss of the batch.</param>
    /// <param name="ct">Checked before every step.</param>
    /// <exception cref="DsgException">DSG0713 when the loss stops being finite.</exception>
    public static (QuantizedWeight Weight, double NearestError, double LearnedError) Run(WeightedLayer layer, QuantizedWeight nearest,
        CalibrationSet inputs, CalibrationSet targets, AdaRoundSettings settings, Action<int, double>? stepDone, CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        var dims = layer.Dims;
        var w = torch.tensor(layer.Weight, dims);
        var scaleShape = Enumerable.Repeat(1L, dims.Length).ToArray();
        scaleShape[nearest.Axis] = dims[nearest.Axis];
        var s = torch.tensor(nearest.Scales, scaleShape);
        var bias = layer.Bias is { } b ? torch.tensor(b) : null;
        var ratio = w.div(s);
        var floor = ratio.floor();
        using var k = new SoftRoundingConstants();
        using var qmin = ((double)nearest.Grid.QMin).ToScalar();
        using var qmax = ((double)nearest.Grid.QMax).ToScalar();
        using var lambda = settings.RegularizerWeight.ToScalar();
        using var v = new TorchSharp.Modules.Parameter(SoftRounding.InitialLogits(ratio.add(floor, k.MinusOne)).detach(), requires_grad: true);
        using var adam = new AdamState(v, settings.LearningRate);
        var random = new Random(settings.Seed);
        int batch = Math.Min(settings.BatchSize, inputs.Count);
        // One buffer per set for every step: a step allocates no managed arrays.
        var xBuffer = new float[batch * inputs.SampleSize];
        var yBuffer = new float[batch * targets.SampleSize];
        var order = Enumerable.Range(0, inputs.Count).ToArray();
        for (int step = 0; step < settings.Iterations; step++)
        {
            ct.ThrowIfCancellationRequested();
            using var stepScope = NewDisposeScope();
            // The step's convolutions, forward and backward, with the process's checked-right kernels (OneDnnConvolutionGuard).
            using var kernels = OneDnnConvolutionGuard.Enter(ConvolutionKernels.Native);
            Shuffle(random, order, batch);
            var x = Gather(inputs, order, batch, xBuffer);
            var y = layer.Activate(Gather(targets, order, batch, yBuffer));
            var soft = floor.add(SoftRounding.Rectify(v, k), k.One).clamp(qmin, qmax).mul(s);
            var reconstruction = Error(layer.Activate(layer.Apply(x, soft, bias)), y);
            Tensor loss = reconstruction;
            Scalar? betaScalar = settings.Beta(step) is { } beta ? beta.ToScalar() : null;
            using (betaScalar)
            {
                if (betaScalar is not null)
                {
                    loss = reconstruction.add(SoftRounding.Regularizer(v, betaScalar, k), lambda);
                }

                double value = reconstruction.item<float>();
                if (!double.IsFinite(value))
                {
                    throw new DsgException(ErrorCodes.RefinementNotFinite,
                        $"AdaRound's reconstruction error became {value} at step {step + 1}: the layer's inputs or outputs hold values out of float range.",
                        "Quantize without refinement (--refine none), or check the model with `dotnet dsg inspect --verify`.");
                }

                loss.backward();
                adam.Step();
                stepDone?.Invoke(step + 1, value);
            }
        }

        using var noGrad = torch.no_grad();
        var learned = floor.add(SoftRounding.HardRounding(v), k.One).clamp(qmin, qmax);
        var integers = learned.to_type(ScalarType.Int8).data<sbyte>().ToArray();
        var near = torch.tensor(nearest.Values.Select(q => (float)q).ToArray(), dims);
        double nearestError = FullError(layer, inputs, targets, near.mul(s), bias);
        double learnedError = FullError(layer, inputs, targets, learned.mul(s), bias);
        var weight = nearest with { Values = integers, SqnrDb = Sqnr.Compute(layer.Weight, learned.mul(s).data<float>().ToArray()) };
        return (weight, nearestError, learnedError);
    }

    /// <summary>The reconstruction error of <paramref name="weight"/> over every sample: Σ over channels of the squared difference, averaged over the rest.</summary>
    internal static double FullError(WeightedLayer layer, CalibrationSet inputs, CalibrationSet targets, Tensor weight, Tensor? bias)
    {
        using var noGrad = torch.no_grad();
        using var kernels = OneDnnConvolutionGuard.Enter(ConvolutionKernels.Native);
        double sum = 0;
        long rows = 0, read = 0;
        foreach (var (start, count) in inputs.Batches(64))
        {
            // The batches' managed copies are released every 32 MiB (see AdaRoundRefiner.Collect).
            read += ((long)inputs.SampleSize + targets.SampleSize) * count * sizeof(float);
            if (read >= Runtime.ActivationBatcher.ReleaseThresholdBytes)
            {
                Runtime.ActivationBatcher.ReleaseOutputs(read);
                read = 0;
            }

            using var scope = NewDisposeScope();
            var x = torch.tensor(inputs.Values(start, count).ToArray(), inputs.BatchShape(count));
            var y = layer.Activate(torch.tensor(targets.Values(start, count).ToArray(), targets.BatchShape(count)));
            sum += Error(layer.Activate(layer.Apply(x, weight, bias)), y).item<float>() * count;
            rows += count;
        }

        return sum / rows;
    }

    /// <summary>‖ŷ − y‖² summed over the channel dimension (1), averaged over the others.</summary>
    internal static Tensor Error(Tensor output, Tensor target)
    {
        using var scope = NewDisposeScope();
        var diff = TorchSharp.torch.nn.functional.mse_loss(output, target, nn.Reduction.None);
        var error = (diff.ndim > 1 ? diff.sum(1) : diff).mean();
        return error.MoveToOuterDisposeScope();
    }

    /// <summary>Moves a random choice of <paramref name="batch"/> distinct indices to the front of <paramref name="order"/> (a partial Fisher–Yates shuffle).</summary>
    internal static void Shuffle(Random random, int[] order, int batch)
    {
        for (int i = 0; i < batch; i++)
        {
            int k = random.Next(i, order.Length);
            (order[i], order[k]) = (order[k], order[i]);
        }
    }

    /// <summary>The samples <paramref name="order"/>[0..batch) of <paramref name="set"/> as a tensor, through <paramref name="buffer"/>.</summary>
    internal static Tensor Gather(CalibrationSet set, int[] order, int batch, float[] buffer)
    {
        int size = set.SampleSize;
        for (int i = 0; i < batch; i++)
        {
            set.CopySample(order[i], buffer.AsSpan(i * size, size));
        }

        return torch.tensor(buffer, set.BatchShape(batch));
    }
}
