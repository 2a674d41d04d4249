namespace Dsg.Core.Evaluation;

/// <summary>
/// Splits samples into ONNX Runtime calls whose exposed activations fit a memory budget. Calibration and verification
/// ask ONNX Runtime for every quantized activation of a batch at once; at 224×224 that is tens of MB per sample, so a
/// fixed batch of 64 held several GB. The first call runs one sample and measures what its outputs take; later calls
/// hold as many samples as fit <see cref="BudgetBytes"/>, at most the requested batch. Peak memory then depends on the
/// model, not on the number of samples or the batch option.
/// </summary>
public sealed class ActivationBatcher
{
    /// <summary>The default budget for the outputs of one call: 256 MiB.</summary>
    public const long DefaultBudgetBytes = 256L << 20;

    private readonly int _count;
    private readonly int _maxBatch;
    private int _next;
    private int _batch = 1;
    private bool _measured;

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
    }

    /// <summary>The budget for the outputs of one call.</summary>
    public long BudgetBytes { get; }

    /// <summary>Samples per call once the first call was measured (1 before).</summary>
    public int BatchSize => _batch;

    /// <summary>Calls done so far.</summary>
    public int Done { get; private set; }

    /// <summary>Calls in all, as far as known: exact once the first call was measured.</summary>
    public int Total => _measured ? Done + (int)Math.Ceiling((_count - _next) / (double)_batch) : Math.Max(1, (int)Math.Ceiling(_count / (double)_maxBatch));

    /// <summary>The next call's first sample and count; false when every sample was handed out.</summary>
    public bool TryNext(out int start, out int count)
    {
        start = _next;
        count = Math.Min(_batch, _count - _next);
        if (count <= 0)
        {
            return false;
        }

        _next += count;
        Done++;
        return true;
    }

    /// <summary>Records what the outputs of the last call took; the first call sets the batch size of the rest.</summary>
    public void Measured(long outputBytes, int samples)
    {
        if (_measured || samples < 1)
        {
            return;
        }

        _measured = true;
        long perSample = Math.Max(1, outputBytes / samples);
        _batch = (int)Math.Clamp(BudgetBytes / perSample, 1, _maxBatch);
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
