using Dsg.Core.Runtime;
using Dsg.Core.Tests.Graph;
using static Dsg.Core.Tests.Graph.OnnxGraphBuilder;

namespace Dsg.Core.Tests.Runtime;

/// <summary>A model that fixes its batch runs on any number of samples, in slices of that batch.</summary>
public sealed class OnnxRuntimeRunnerTests
{
    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 5)]
    [InlineData(4, 4)]
    public void A_fixed_batch_model_runs_any_number_of_samples_in_slices(long fixedBatch, int samples)
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", fixedBatch, 2, 3, 3).Output("y", fixedBatch, 4);
        var conv = b.Node("Conv", ["x", b.RandomWeight("w", new Random(3), 1, 4, 2, 3, 3)]);
        b.Node("Reshape", [conv, b.Int64s("shape", fixedBatch, -1)], ["y"]);
        using var runner = new OnnxRuntimeRunner(b.Build());
        var random = new Random(5);
        var data = Enumerable.Range(0, samples * 18).Select(_ => (float)random.NextDouble()).ToArray();

        var all = Assert.Single(runner.Run(data, [samples, 2, 3, 3]));

        Assert.Equal(fixedBatch, runner.FixedBatch);
        Assert.Equal([samples, 4L], all.Shape);
        for (int n = 0; n < samples; n++)
        {
            // Sample n alone, padded to the fixed batch with zeros, gives the same row.
            var one = new float[fixedBatch * 18];
            data.AsSpan(n * 18, 18).CopyTo(one);
            var row = Assert.Single(runner.Run(one, [fixedBatch, 2, 3, 3])).Floats.AsSpan(0, 4).ToArray();
            Assert.Equal(row, all.Floats.AsSpan(n * 4, 4).ToArray());
        }
    }
}
