namespace Dsg.Core.Runtime;

/// <summary>
/// Splits samples into ONNX Runtime calls whose exposed activations fit a memory budget. Calibration and verification
/// ask ONNX Runtime for every quantized activation of a batch at once; at 224×224 that is tens of MB per sample, so a
/// fixed batch of 64 held several GB. The caller first runs one sample as a probe and reports what its outputs take
/// (<see cref="Measured"/>); the calls then hold as many samples as fit <see cref="BudgetBytes"/>, at most the
/// requested batch. The probe's outputs are not observed, so the batches (and the histograms built from them) are the
/// same as without a budget wherever the budget does not bind.
/// </summary>
public sealed class ActivationBatcher
{
    /// <summary>The default budget for the outputs of one call: 256 MiB.</summary>
    public const long DefaultBudgetBytes = 256L << 20;

    private readonly int _count;
    private readonly int _maxBatch;
    private int _next;

    /// <param name="count">Samples in all.</param>
    /// <param name="maxBatch">The most samples per call (the batch-size option).</param>
    /// <param name="budgetBytes">What the outputs of one call may take.</param>
    public ActivationBatcher(int count, int maxBatch, long budgetBytes = DefaultBudgetBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(budgetBytes, 1);
        _count = count;
        _maxBatch = maxBatch;
        BudgetBytes = budgetBytes;
        BatchSize = maxBatch;
    }

    /// <summary>The budget for the outputs of one call.</summary>
    public long BudgetBytes { get; }

    /// <summary>Samples per call: the requested batch, or fewer once a probe showed they would not fit the budget.</summary>
    public int BatchSize { get; private set; }

    /// <summary>Calls handed out so far.</summary>
    public int Done { get; private set; }

    /// <summary>Calls in all.</summary>
    public int Total => Done + (int)Math.Ceiling((_count - _next) / (double)BatchSize);

    /// <summary>The next call's first sample and count; false when every sample was handed out.</summary>
    public bool TryNext(out int start, out int count)
    {
        start = _next;
        count = Math.Min(BatchSize, _count - _next);
        if (count <= 0)
        {
            return false;
        }

        _next += count;
        Done++;
        return true;
    }

    /// <summary>Sizes the calls from a probe: what the outputs of <paramref name="samples"/> samples took. Call it before the first <see cref="TryNext"/>.</summary>
    public void Measured(long outputBytes, int samples)
    {
        if (Done > 0 || samples < 1)
        {
            throw new InvalidOperationException("Measure the probe before the first call.");
        }

        long perSample = Math.Max(1, outputBytes / samples);
        BatchSize = (int)Math.Clamp(BudgetBytes / perSample, 1, _maxBatch);
    }

    /// <summary>
    /// Collects the managed copies of a call's outputs once they are consumed, when they are large. They live on the
    /// large-object heap, which the GC collects only when its budget (which grows with the machine's memory) runs out:
    /// without this, peak memory grew with the number of calls.
    /// </summary>
    public static void ReleaseOutputs(long outputBytes)
    {
        if (outputBytes >= ReleaseThresholdBytes)
        {
            GC.Collect();
        }
    }

    /// <summary>Outputs of at least this size are collected after their call (<see cref="ReleaseOutputs"/>): 32 MiB.</summary>
    public const long ReleaseThresholdBytes = 32L << 20;

    /// <summary>The bytes ONNX Runtime's results occupy in managed memory.</summary>
    public static long BytesOf(IEnumerable<TensorResult> results) =>
        results.Sum(r => (long)r.Data.Length * System.Runtime.InteropServices.Marshal.SizeOf(r.Data.GetType().GetElementType()!));
}
