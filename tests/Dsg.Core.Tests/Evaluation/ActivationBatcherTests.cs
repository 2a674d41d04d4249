using Dsg.Core.Evaluation;

namespace Dsg.Core.Tests.Evaluation;

/// <summary>Calibration and verification calls are sized to a memory budget measured on the first sample.</summary>
public sealed class ActivationBatcherTests
{
    [Theory]
    [InlineData(1000, 64, 1_000, 64)]       // small activations: the batch option decides
    [InlineData(1000, 64, 20_000_000, 13)]  // 20 MB a sample (224x224): 256 MiB hold 13
    [InlineData(1000, 64, 600_000_000, 1)]  // larger than the budget: one at a time
    public void The_first_call_runs_one_sample_and_sizes_the_rest(int count, int maxBatch, long bytesPerSample, int expectedBatch)
    {
        var batcher = new ActivationBatcher(count, maxBatch);
        Assert.True(batcher.TryNext(out int start, out int first));
        Assert.Equal((0, 1), (start, first));
        batcher.Measured(bytesPerSample, 1);
        Assert.Equal(expectedBatch, batcher.BatchSize);

        int covered = 1, calls = 1;
        while (batcher.TryNext(out int s, out int n))
        {
            Assert.Equal(covered, s);
            Assert.InRange(n, 1, expectedBatch);
            covered += n;
            calls++;
            Assert.Equal(calls, batcher.Done);
        }

        Assert.Equal(count, covered);
        Assert.Equal(calls, batcher.Total);
        Assert.Equal(1 + (int)Math.Ceiling((count - 1) / (double)expectedBatch), calls);
    }

    [Fact]
    public void Later_measurements_do_not_change_the_batch_and_no_samples_means_no_calls()
    {
        var batcher = new ActivationBatcher(10, 4, budgetBytes: 100);
        batcher.TryNext(out _, out _);
        batcher.Measured(50, 1);
        batcher.Measured(1, 1);
        Assert.Equal(2, batcher.BatchSize);
        Assert.False(new ActivationBatcher(0, 4).TryNext(out _, out _));
    }
}
