
using Dsg.Core.Runtime;

namespace Dsg.Core.Tests.Runtime;

/// <summary>Calibration and verification calls are sized to a memory budget measured on a one-sample probe.</summary>
public sealed class ActivationBatcherTests
{
    [Theory]
    [InlineData(1000, 64, 1_000, 64)]       // small activations: the batch option decides
    [InlineData(1000, 64, 20_000_000, 13)]  // 20 MB a sample (224x224): 256 MiB hold 13
    [InlineData(1000, 64, 600_000_000, 1)]  // larger than the budget: one at a time
    public void A_probe_sizes_the_calls_and_every_sample_is_handed_out_once(int count, int maxBatch, long bytesPerSample, int expectedBatch)
    {
        var batcher = new ActivationBatcher(count, maxBatch);
        batcher.Measured(bytesPerSample * 2, 2);
        Assert.Equal(expectedBatch, batcher.BatchSize);

        int covered = 0, calls = 0;
        while (batcher.TryNext(out int start, out int n))
        {
            Assert.Equal(covered, start);
            Assert.InRange(n, 1, expectedBatch);
            covered += n;
            calls++;
            Assert.Equal(calls, batcher.Done);
        }

        Assert.Equal(count, covered);
        Assert.Equal(calls, batcher.Total);
        Assert.Equal((int)Math.Ceiling(count / (double)expectedBatch), calls);
    }

    [Fact]
    public void Without_a_probe_the_requested_batch_holds_and_a_late_probe_is_refused()
    {
        var batcher = new ActivationBatcher(10, 4, budgetBytes: 100);
        Assert.Equal(3, batcher.Total);
        Assert.True(batcher.TryNext(out _, out int first));
        Assert.Equal(4, first);
        Assert.Throws<InvalidOperationException>(() => batcher.Measured(50, 1));
        Assert.False(new ActivationBatcher(0, 4).TryNext(out _, out _));
    }
}
