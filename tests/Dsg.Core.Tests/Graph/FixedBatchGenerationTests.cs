using Dsg.Core.Generation;
using Dsg.Core.Graph;
using Dsg.Core.Onnx.Import;
using TorchSharp;
using static Dsg.Core.Tests.Graph.OnnxGraphBuilder;

namespace Dsg.Core.Tests.Graph;

/// <summary>A model exported at batch 1 with its flatten folded to Reshape [1, -1] still generates in batches.</summary>
public sealed class FixedBatchGenerationTests
{
    [Fact]
    public void A_reshape_folded_at_batch_1_is_generalised_for_generation()
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", 1, 2, 4, 4).Output("y", 1, 3);
        var conv = b.Node("Conv", ["x", b.RandomWeight("w", new Random(2), 1, 4, 2, 3, 3)], null, Ints("pads", 1, 1, 1, 1));
        var flat = b.Node("Reshape", [conv, b.Int64s("shape", 1, -1)]);
        b.Node("Gemm", [flat, b.RandomWeight("fc", new Random(3), 0.1, 3, 64)], ["y"], Int("transB", 1));
        var model = b.Build();

        using var plain = TorchGraph.Create(model);
        using var general = TorchGraph.CreateForGeneration(model);

        Assert.Equal(1, plain.FixedBatch);
        Assert.Null(general.FixedBatch);
        using var scope = torch.NewDisposeScope();
        var input = torch.randn(5, 2, 4, 4);
        var output = general.Forward(input).Outputs[0];
        Assert.Equal([5L, 3L], output.shape);
        // Row 3 of the batch equals the model's own answer for that sample alone.
        var alone = plain.Forward(input[3..4]).Outputs[0];
        Assert.True(alone.allclose(output[3..4], 1e-5, 1e-6));
    }

    [Fact]
    public void A_reshape_whose_leading_dimension_is_not_the_batch_keeps_the_model_fixed()
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", 1, 4, 2, 2).Output("y", 1, 16);
        var t = b.Node("Transpose", ["x"], null, Ints("perm", 1, 0, 2, 3));
        b.Node("Reshape", [t, b.Int64s("shape", 1, -1)], ["y"]);
        var model = b.Build();

        Assert.NotNull(FixedBatchReshapes.Generalize(model, 1));
        using var graph = TorchGraph.CreateForGeneration(model);
        Assert.Equal(1, graph.FixedBatch);
    }

    [Fact]
    public void Progress_steps_are_counted_at_the_batch_a_fixed_graph_generates_in()
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", 1, 4, 2, 2).Output("y", 1, 16);
        var t = b.Node("Transpose", ["x"], null, Ints("perm", 1, 0, 2, 3));
        b.Node("Reshape", [t, b.Int64s("shape", 1, -1)], ["y"]);
        using var graph = TorchGraph.CreateForGeneration(b.Build());

        var fitted = SampleGenerator.FitToGraph(graph, new GenerationOptions { Samples = 3, BatchSize = 64, Iterations = 10 });
        Assert.Equal(1, fitted.BatchSize);
        Assert.Equal(30, fitted.ProgressSteps);

        var noise = new GenerationOptions { Method = GenerationMethod.Gaussian, Samples = 3, BatchSize = 64, Device = "cpu" };
        var reports = new List<GenerationProgress>();
        SampleGenerator.Generate(graph, noise, new InlineProgress<GenerationProgress>(reports.Add));
        Assert.Equal(SampleGenerator.FitToGraph(graph, noise).ProgressSteps, reports.Count);
        Assert.Equal(3, reports.Count);
    }

    private sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
