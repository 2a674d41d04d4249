using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using Dsg.Core.Runtime;
using Dsg.Core.Tests.Graph;
using static Dsg.Core.Tests.Graph.OnnxGraphBuilder;

namespace Dsg.Core.Tests.Runtime;

/// <summary>
/// The one place Dsg.Core runs ONNX Runtime: a model that fixes its batch runs on any number of samples, in slices of
/// that batch; a double-precision model takes float samples; a model with external data runs from its file.
/// </summary>
public sealed class OnnxRuntimeRunnerTests
{
    [Fact]
    public void A_double_precision_model_takes_float_samples_and_returns_doubles()
    {
        var b = new OnnxGraphBuilder(floatType: TensorProto.Types.DataType.Double);
        b.Input("x", null, 2).Output("y", null, 2);
        b.Node("Mul", ["x", b.Weight("k", [2.0, -3.0], 2)], ["y"]);
        using var runner = new OnnxRuntimeRunner(b.Build());

        var y = Assert.Single(runner.Run(new float[] { 1.5f, 2f, -1f, 0.25f }, [2, 2]));

        Assert.Equal([3.0, -6.0, -2.0, -0.75], Assert.IsType<double[]>(y.Data));
    }

    [Fact]
    public void A_model_with_external_data_runs_from_its_file()
    {
        var dir = Directory.CreateTempSubdirectory("dsg-runner-").FullName;
        try
        {
            var b = new OnnxGraphBuilder();
            b.Input("x", null, 2).Output("y", null, 2);
            b.Node("Mul", ["x", b.Weight("k", [2.0, -3.0], 2)], ["y"]);
            var proto = b.Build().Proto;
            var weight = proto.Graph.Initializer.Single();
            File.WriteAllBytes(Path.Combine(dir, "weights.bin"), weight.FloatData.SelectMany(BitConverter.GetBytes).ToArray());
            weight.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
            weight.FloatData.Clear();
            weight.DataLocation = TensorProto.Types.DataLocation.External;
            var path = Path.Combine(dir, "external.onnx");
            File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(proto));
            var model = OnnxModel.Load(path);
            Assert.True(model.HasExternalData());

            using var runner = new OnnxRuntimeRunner(model);

            Assert.Equal([3f, -6f], Assert.Single(runner.Run(new float[] { 1.5f, 2f }, [1, 2])).Floats);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

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
