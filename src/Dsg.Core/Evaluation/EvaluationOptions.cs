namespace Dsg.Core.Evaluation;

/// <summary>How <see cref="ModelEvaluator"/> compares two models; defaults in one place.</summary>
public sealed record EvaluationOptions
{
    /// <summary>Samples per ONNX Runtime call for agreement and accuracy. Default 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Whether to time both models at batch 1 and <see cref="LatencyBatchSize"/>. Default true.</summary>
    public bool MeasureLatency { get; init; } = true;

    /// <summary>The large batch timed. Default 64.</summary>
    public int LatencyBatchSize { get; init; } = 64;

    /// <summary>Timed runs per model and batch size (the median is reported). Default 20.</summary>
    public int LatencyRuns { get; init; } = 20;

    /// <summary>Untimed runs before timing. Default 3.</summary>
    public int WarmupRuns { get; init; } = 3;

    /// <summary>How the first outputs are compared. Default <see cref="AgreementMetric.TopOne"/> (for class scores).</summary>
    public AgreementMetric Metric { get; init; } = AgreementMetric.TopOne;

    /// <summary>ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose. Default 0.</summary>
    public int Threads { get; init; }

    /// <summary>Checks every value.</summary>
    /// <exception cref="DsgException">DSG0301 naming the option.</exception>
    public EvaluationOptions Validate()
    {
        Check(BatchSize >= 1, "batch-size", BatchSize, "positive integers");
        Check(LatencyBatchSize >= 1, "latency-batch-size", LatencyBatchSize, "positive integers");
        Check(LatencyRuns >= 1, "latency-runs", LatencyRuns, "positive integers");
        Check(WarmupRuns >= 0, "warmup-runs", WarmupRuns, "0 or more");
        Check(Threads >= 0, "threads", Threads, "0 (automatic) or a positive integer");
        if (!Enum.IsDefined(Metric))
        {
            throw new DsgException(ErrorCodes.BadOption, $"The agreement metric '{Metric}' is not one of TopOne, Cosine.", "Use AgreementMetric.TopOne or AgreementMetric.Cosine.");
        }

        return this;
    }

    private static void Check(bool ok, string option, int value, string allowed)
    {
        if (!ok)
        {
            throw new DsgException(ErrorCodes.BadOption, $"Option '{option}' has the value '{value}'; allowed values are {allowed}.",
                $"Change --{option} to one of the allowed values.");
        }
    }
}
