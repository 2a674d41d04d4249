using Dsg.Core.Data;

namespace Dsg.Core.Tests.Data;

public sealed class SampleBufferTests
{
    private static string[] ScratchFiles() =>
        Directory.GetFiles(Path.GetTempPath(), $"dsg-samples.{Environment.ProcessId}.*");

    [Fact]
    public void SmallSetsStayInMemoryAndLargeOnesGoToAScratchFile()
    {
        using var small = SampleBuffer.Create(1000, spillBytes: 4000);
        using var large = SampleBuffer.Create(1001, spillBytes: 4000);
        Assert.True(small.InMemory);
        Assert.False(large.InMemory);
        Assert.Equal(1001, large.Length);
    }

    [Fact]
    public void AFileBackedBufferReadsBackWhatWasWrittenAndZerosElsewhere()
    {
        using var buffer = SampleBuffer.Create(10, spillBytes: 0);
        Assert.False(buffer.InMemory);
        buffer.Write(3, [1f, 2f, 3f]);
        buffer.Write(8, [-4f, 5.5f]);
        var all = new float[10];
        buffer.Read(0, all);
        Assert.Equal([0f, 0f, 0f, 1f, 2f, 3f, 0f, 0f, -4f, 5.5f], all);
        var middle = new float[2];
        buffer.Read(4, middle);
        Assert.Equal([2f, 3f], middle);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Write(9, [1f, 2f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Read(-1, new float[1]));
    }

    [Fact]
    public void TheScratchFileHasNoNameOnceOpenAndIsGoneAfterDispose()
    {
        var buffer = SampleBuffer.Create(100, spillBytes: 0);
        buffer.Write(0, new float[100]);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Empty(ScratchFiles());
        }

        buffer.Dispose();
        Assert.Empty(ScratchFiles());
        Assert.Throws<ObjectDisposedException>(() => buffer.Read(0, new float[1]));
    }

    [Fact]
    public void AFileBackedSetGivesTheSameBatchesAsOneInMemory()
    {
        var values = Enumerable.Range(0, 5 * 2 * 3 * 3).Select(i => i * 0.5f).ToArray();
        using var memory = new CalibrationSet(values, [5, 2, 3, 3]);
        using var file = new CalibrationSet(SampleBuffer.Create(values.Length, spillBytes: 0), [5, 2, 3, 3]);
        file.Write(0, values.AsSpan(0, 36));
        file.Write(2, values.AsSpan(36));
        Assert.True(memory.InMemory);
        Assert.False(file.InMemory);
        foreach (var (start, count) in memory.Batches(2))
        {
            Assert.Equal(memory.Values(start, count).ToArray(), file.Values(start, count).ToArray());
        }

        Assert.Equal(values, file.ToArray());
        Assert.Same(values, memory.ToArray());
        Assert.Throws<ArgumentException>(() => file.Write(0, new float[17]));
    }

    [Fact]
    public void SpillAboveAppliesToBuffersCreatedInsideItsScopeOnly()
    {
        using (SampleBuffer.SpillAbove(0))
        {
            using var inside = SampleBuffer.Create(4);
            Assert.False(inside.InMemory);
        }

        using var outside = SampleBuffer.Create(4);
        Assert.True(outside.InMemory);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AMirroredSetIsTheSetFollowedByEachSampleReversedAlongItsLastAxisWithTheLabelsRepeated(bool spill)
    {
        // Two samples of 2 channels × 2 rows × 3 columns.
        var values = Enumerable.Range(0, 24).Select(v => (float)v).ToArray();
        using var set = new CalibrationSet(values, [2, 2, 2, 3], [7, 9]);
        using (SampleBuffer.SpillAbove(spill ? 0 : long.MaxValue))
        {
            using var mirrored = set.WithMirrored();

            Assert.Equal(!spill, mirrored.InMemory);
            Assert.Equal([4L, 2, 2, 3], mirrored.Shape);
            Assert.Equal([7L, 9, 7, 9], mirrored.Labels!);
            Assert.Equal(values, mirrored.Values(0, 2).ToArray());
            Assert.Equal([2f, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9], mirrored.Values(2, 1).ToArray());
            Assert.Equal([14f, 13, 12, 17, 16, 15, 20, 19, 18, 23, 22, 21], mirrored.Values(3, 1).ToArray());
        }
    }
}
