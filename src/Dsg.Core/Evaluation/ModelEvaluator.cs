using System.Diagnostics;
using Dsg.Core.Data;
using Dsg.Core.Onnx;
using Dsg.Core.Quantization;
using Dsg.Core.Runtime;

namespace Dsg.Core.Evaluation;

/// <summary>
/// Compares a quantized model with its fp32 reference in ONNX Runtime: agreement (top-1, or the cosine similarity of
/// outputs that are not class scores; <see cref="EvaluationOptions.Metric"/>), accuracy against labels,
/// output SQNR, median latency at batch 1 and 64, and file sizes.
/// </summary>
public static class ModelEvaluator
{
    /// <summary>Compares two model files on <paramref name="data"/> (labels, when present, give accuracy).</summary>
    /// <exception cref="DsgException">DSG01xx for unreadable models; DSG0708 when the models' inputs/outputs differ; DSG0702 for data of the wrong shape.</exception>
    public static EvaluationReport Compare(string referencePath, string candidatePath, CalibrationSet data, EvaluationOptions? options = null,
        CancellationToken ct = default)
    {
        var reference = OnnxModel.Load(referencePath);
        var candidate = OnnxModel.Load(candidatePath);
        return Compare(reference, candidate, data, options, new FileInfo(referencePath).Length, new FileInfo(candidatePath).Length, ct);
    }

    /// <summary>Compares two loaded models; file sizes are the given ones or the serialized sizes.</summary>
    public static EvaluationReport Compare(OnnxModel reference, OnnxModel candidate, CalibrationSet data, EvaluationOptions? options = null,
        long? referenceBytes = null, long? candidateBytes = null, CancellationToken ct = default)
    {
        options = (options ?? new EvaluationOptions()).Validate();
        using var referenceRunner = new OnnxRuntimeRunner(reference, options.Threads);
        using var candidateRunner = new OnnxRuntimeRunner(candidate, options.Threads);
        if (referenceRunner.InputName != candidateRunner.InputName || referenceRunner.OutputNames[0] != candidateRunner.OutputNames[0])
        {
            throw new DsgException(ErrorCodes.ModelsDoNotMatch,
                $"'{reference.DisplayName}' (input '{referenceRunner.InputName}', output '{referenceRunner.OutputNames[0]}') and '{candidate.DisplayName}' (input '{candidateRunner.InputName}', output '{candidateRunner.OutputNames[0]}') do not have the same input and output.",
                "Compare a quantized model with the fp32 model it was made from.");
        }

        CheckShape(referenceRunner, data);
        var refLogits = Predict(referenceRunner, data, options.BatchSize, ct);
        var candLogits = Predict(candidateRunner, data, options.BatchSize, ct);
        int classes = data.Count == 0 ? 0 : refLogits.Length / data.Count;
        var refTop = TopOne(refLogits, classes);
        var candTop = TopOne(candLogits, classes);
        double agreement = data.Count == 0 ? double.NaN : AgreementMetrics.Sum(options.Metric, refLogits, candLogits, data.Count) / data.Count;
        double? refAccuracy = data.Labels is { } labels ? Accuracy(refTop, labels) : null;
        double? candAccuracy = data.Labels is { } l2 ? Accuracy(candTop, l2) : null;
        LatencyFigures? refLatency = null, candLatency = null;
        if (options.MeasureLatency && data.Count > 0)
        {
            refLatency = MeasureLatency(referenceRunner, data, options, ct);
            candLatency = MeasureLatency(candidateRunner, data, options, ct);
        }

        return new EvaluationReport(data.Count, options.Metric, agreement, Sqnr.Compute(refLogits, candLogits),
            new ModelFigures(reference.DisplayName, referenceBytes ?? reference.ToBytes().LongLength, refAccuracy, refLatency),
            new ModelFigures(candidate.DisplayName, candidateBytes ?? candidate.ToBytes().LongLength, candAccuracy, candLatency));
    }

    /// <summary>
    /// The shape (C, H, W) one sample of the model's single image input has; a dynamic dimension is −1 (which
    /// <see cref="CalibrationDataOptions.SampleShape"/> accepts as "any").
    /// </summary>
    /// <exception cref="DsgException">DSG0204 when the model does not have exactly one N×C×H×W input.</exception>
    public static long[] SampleShape(OnnxModel model)
    {
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var inputs = model.Graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
        var dims = inputs.Count == 1 ? inputs[0].Type?.TensorType?.Shape?.Dim : null;
        if (dims is null || dims.Count != 4)
        {
            throw new DsgException(ErrorCodes.UnsupportedInput,
                $"'{model.DisplayName}' needs exactly one image input of shape N x C x H x W.",
                "Export the model with a single image input.") { FilePath = model.DisplayName };
        }

        return dims.Skip(1).Select(d => d.HasDimValue && d.DimValue > 0 ? d.DimValue : -1).ToArray();
    }

    /// <summary>The first output (logits) for every sample, concatenated.</summary>
    public static float[] Predict(OnnxRuntimeRunner runner, CalibrationSet data, int batchSize = 64, CancellationToken ct = default)
    {
        var result = new List<float>();
        foreach (var (start, count) in data.Batches(batchSize))
        {
            ct.ThrowIfCancellationRequested();
            result.AddRange(runner.RunFirstOutput(data.Values(start, count), data.BatchShape(count)));
        }

        return result.ToArray();
    }

    /// <summary>Top-1 accuracy of a model on labelled data.</summary>
    public static double Accuracy(OnnxModel model, CalibrationSet data, int batchSize = 64, int threads = 0, CancellationToken ct = default)
    {
        if (data.Labels is null)
        {
            throw new ArgumentException("The data has no labels.", nameof(data));
        }

        using var runner = new OnnxRuntimeRunner(model, threads);
        CheckShape(runner, data);
        var logits = Predict(runner, data, batchSize, ct);
        return Accuracy(TopOne(logits, logits.Length / Math.Max(data.Count, 1)), data.Labels);
    }

    /// <summary>The index of the largest value in each row of <paramref name="classes"/> values.</summary>
    public static int[] TopOne(ReadOnlySpan<float> logits, int classes)
    {
        if (classes <= 0)
        {
            return [];
        }

        var top = new int[logits.Length / classes];
        for (int n = 0; n < top.Length; n++)
        {
            top[n] = AgreementMetrics.ArgMax(logits.Slice(n * classes, classes));
        }

        return top;
    }

    /// <summary>Median latency at batch 1 and at the large batch (samples repeat when there are fewer).</summary>
    public static LatencyFigures MeasureLatency(OnnxRuntimeRunner runner, CalibrationSet data, EvaluationOptions options, CancellationToken ct = default)
    {
        double Time(int batch)
        {
            var values = new float[batch * data.SampleSize];
            for (int i = 0; i < batch; i++)
            {
                data.Values(i % data.Count, 1).Span.CopyTo(values.AsSpan(i * data.SampleSize));
            }

            var shape = data.BatchShape(batch);
            for (int i = 0; i < options.WarmupRuns; i++)
            {
                runner.RunFirstOutput(values, shape);
            }

            var times = new double[options.LatencyRuns];
            for (int i = 0; i < times.Length; i++)
            {
                ct.ThrowIfCancellationRequested();
                long start = Stopwatch.GetTimestamp();
                runner.RunFirstOutput(values, shape);
                times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }

            Array.Sort(times);
            return times.Length % 2 == 1 ? times[times.Length / 2] : (times[times.Length / 2 - 1] + times[times.Length / 2]) / 2;
        }

        return new LatencyFigures(Time(1), Time(options.LatencyBatchSize), options.LatencyBatchSize);
    }

    internal static void CheckShape(OnnxRuntimeRunner runner, CalibrationSet data)
    {
        var dims = runner.InputDims;
        var sample = data.SampleShape;
        bool ok = dims.Length == 0 || (dims.Length == sample.Length + 1 && dims.Skip(1).Zip(sample).All(p => p.First < 0 || p.First == p.Second));
        if (!ok)
        {
            throw new DsgException(ErrorCodes.CalibrationDataShapeMismatch,
                $"The data has samples of shape ({string.Join(", ", sample)}), and '{runner.DisplayName}' takes input '{runner.InputName}' of shape ({string.Join(", ", dims.Select(d => d < 0 ? "N" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}).",
                "Pass data with the model's channel count and image size (N x C x H x W, in the model's input space).");
        }
    }

    private static double Accuracy(int[] predictions, long[] labels)
    {
        if (predictions.Length != labels.Length)
        {
            throw new DsgException(ErrorCodes.LabelsUnreadable, $"There are {labels.Length} labels for {predictions.Length} samples.",
                "Pass one label per sample, in the same order.");
        }

        return predictions.Length == 0 ? double.NaN : predictions.Zip(labels).Count(p => p.First == p.Second) / (double)predictions.Length;
    }
}
