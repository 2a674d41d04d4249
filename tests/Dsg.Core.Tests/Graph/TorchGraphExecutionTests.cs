using Dsg.Core.Graph;
using Dsg.Core.Onnx;
using TorchSharp;
using static Dsg.Core.Tests.Graph.OnnxGraphBuilder;
using static TorchSharp.torch;

namespace Dsg.Core.Tests.Graph;

/// <summary>Constant folding, dynamic batches, tensor ownership and the operator registry.</summary>
public sealed class TorchGraphExecutionTests
{
    [Fact]
    public void Constant_subgraphs_are_folded_at_load()
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", null, 2, 3).Output("y", null, 6);
        var w = b.Weight("w", [1, 2, 3, 4, 5, 6], 6);
        var wShape = b.Node("Shape", [w]);
        var target = b.Node("Concat", [b.Int64s("minus_one", -1), wShape], null, Int("axis", 0));
        var two = b.Node("Constant", [], ["two"], Tensor("value", OnnxTensor.FromFloats("two", [2f])));
        var doubled = b.Node("Mul", [w, two]);
        var flat = b.Node("Reshape", ["x", target]);
        b.Node("Add", [flat, doubled], ["y"]);
        using var graph = TorchGraph.Create(b.Build());
        Assert.Equal(["Reshape", "Add"], graph.StepOpTypes);
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(Enumerable.Range(0, 12).Select(v => (float)v).ToArray()).reshape(2, 2, 3);
        var y = graph.Forward(x).Outputs[0];
        Assert.Equal(new float[] { 2, 5, 8, 11, 14, 17, 8, 11, 14, 17, 20, 23 }, y.data<float>().ToArray());
    }

    [Fact]
    public void Shape_chains_follow_the_batch_size()
    {
        using var graph = TorchGraph.Create(TestModels.SmallCnn());
        Assert.DoesNotContain("Constant", graph.StepOpTypes);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var batch = torch.randn(5, 1, 8, 8);
        var together = graph.Forward(batch).Outputs[0];
        for (int n = 0; n < 5; n++)
        {
            var alone = graph.Forward(batch[n..(n + 1)]).Outputs[0];
            Assert.True(alone.allclose(together[n..(n + 1)], rtol: 1e-5, atol: 1e-6), $"sample {n}");
        }
    }

    [Fact]
    public void Graph_survives_the_scope_it_was_created_in_and_outputs_belong_to_the_caller()
    {
        TorchGraph graph;
        using (torch.NewDisposeScope())
        {
            graph = TorchGraph.Create(TestModels.SmallCnn());
        }

        using (graph)
        {
            Tensor kept;
            using (var scope = torch.NewDisposeScope())
            {
                var x = torch.randn(2, 1, 8, 8);
                var result = graph.Forward(x, ForwardCapture.BatchNormInputs | ForwardCapture.Features);
                // Only the input and what Forward returned are left in the caller's scope: intermediates were released.
                Assert.Equal(1 + result.Outputs.Count + result.BatchNormInputs.Count + 1, scope.DisposablesCount);
                kept = result.Outputs[0];
            }

            Assert.True(kept.IsInvalid);
            using var again = torch.NewDisposeScope();
            Assert.Equal([4L, 3], graph.Forward(torch.randn(4, 1, 8, 8)).Outputs[0].shape);
        }
    }

    [Fact]
    public void Outputs_that_are_constants_or_inputs_are_handed_out_as_aliases()
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", null, 2).Output("x", null, 2).Output("c", 2).Output("y", null, 2).Output("unused", 1);
        b.Weight("c", [1, 2], 2);
        b.Weight("unused", [7], 1);
        b.Node("Add", ["x", "c"], ["y"]);
        using var graph = TorchGraph.Create(b.Build());
        var x = torch.ones(3, 2);
        for (int i = 0; i < 2; i++)
        {
            using var scope = torch.NewDisposeScope();
            var outputs = graph.Forward(x).Outputs;
            Assert.NotSame(x, outputs[0]);
            foreach (var output in outputs)
            {
                output.Dispose();
            }
        }

        Assert.False(x.IsInvalid);
        using var last = torch.NewDisposeScope();
        Assert.Equal(new float[] { 1, 2 }, graph.Forward(x).Outputs[1].data<float>().ToArray());
        x.Dispose();
    }

    [Fact]
    public void Run_takes_every_input_by_name()
    {
        var b = new OnnxGraphBuilder();
        b.Input("a", 2).Input("b", 2).Output("sum", 2);
        b.Node("Add", ["a", "b"], ["sum"]);
        using var graph = TorchGraph.Create(b.Build());
        using var scope = torch.NewDisposeScope();
        var result = graph.Run(new Dictionary<string, Tensor> { ["a"] = torch.tensor(new float[] { 1, 2 }), ["b"] = torch.tensor(new float[] { 10, 20 }) });
        Assert.Equal(new float[] { 11, 22 }, result["sum"].data<float>().ToArray());
        Assert.Equal(ErrorCodes.ExecutorInputMismatch,
            Assert.Throws<DsgException>(() => graph.Run(new Dictionary<string, Tensor> { ["a"] = torch.ones(2) })).Code);
        Assert.Equal(ErrorCodes.ExecutorInputMismatch, Assert.Throws<DsgException>(() => graph.Forward(torch.ones(1, 2))).Code);
    }

    [Fact]
    public void A_transformed_value_is_what_every_later_node_reads_and_gradients_flow_through_it()
    {
        var b = new OnnxGraphBuilder();
        b.Input("a", 2).Output("sum", 2).Output("twice", 2);
        b.Node("Relu", ["a"], ["r"]);
        b.Node("Add", ["r", "a"], ["sum"]);
        b.Node("Add", ["r", "r"], ["twice"]);
        using var graph = TorchGraph.Create(b.Build());
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new float[] { 1, -2 }).requires_grad_(true);
        using var three = 3.0.ToScalar();
        var result = graph.Run(new Dictionary<string, Tensor> { ["a"] = a }, new Dictionary<string, Func<Tensor, Tensor>> { ["r"] = r => r.mul(three) });

        // r = relu(a) · 3 = [3, 0] for both consumers.
        Assert.Equal(new float[] { 4, -2 }, result["sum"].data<float>().ToArray());
        Assert.Equal(new float[] { 6, 0 }, result["twice"].data<float>().ToArray());
        result["twice"].sum().backward();
        Assert.Equal(new float[] { 6, 0 }, a.grad!.data<float>().ToArray());
        Assert.Equal(ErrorCodes.ExecutorInputMismatch, Assert.Throws<DsgException>(() => graph.Run(
            new Dictionary<string, Tensor> { ["a"] = a }, new Dictionary<string, Func<Tensor, Tensor>> { ["a"] = x => x })).Code);
    }

    [Fact]
    public void Operator_support_is_the_registry()
    {
        string[] required =
        [
            "Conv", "ConvTranspose", "BatchNormalization", "Relu", "Clip", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid",
            "HardSwish", "Tanh", "Add", "Sub", "Mul", "Div", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
            "Flatten", "Reshape", "Gemm", "MatMul", "Concat", "Softmax", "Transpose", "Identity", "Dropout", "Constant",
            "Shape", "Gather", "Unsqueeze", "Squeeze", "Slice", "Pad", "ReduceMean", "Split", "Resize",
        ];
        Assert.Subset(OperatorSupport.Supported.ToHashSet(), required.ToHashSet());
        Assert.True(OperatorSupport.IsSupported("Conv", "ai.onnx"));
        Assert.False(OperatorSupport.IsSupported("Conv", "com.microsoft"));
        Assert.False(OperatorSupport.IsSupported("Hardmax", ""));
        Assert.Equal(OperatorSupport.Supported.Order(StringComparer.Ordinal), OperatorSupport.Supported);
    }

    [Fact]
    public void A_fixed_batch_baked_into_a_reshape_is_detected()
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", 1, 2, 2, 2).Output("y", 1, 2);
        var flat = b.Node("Reshape", ["x", b.Int64s("shape", 1, -1)]);
        b.Node("Gemm", [flat, b.Weight("w", Enumerable.Repeat(0.5, 16).ToArray(), 2, 8)], ["y"], Int("transB", 1));
        using var graph = TorchGraph.Create(b.Build());
        Assert.Equal(1L, graph.FixedBatch);
        using var scope = torch.NewDisposeScope();
        Assert.Equal([1L, 2], graph.Forward(torch.ones(1, 2, 2, 2)).Outputs[0].shape);
        var e = Assert.Throws<DsgException>(() => graph.Forward(torch.ones(3, 2, 2, 2)));
        Assert.Equal(ErrorCodes.ExecutorInputMismatch, e.Code);
        Assert.Contains("dynamic_axes", e.Hint);
    }

    [Fact]
    public void A_static_batch_graph_that_follows_the_batch_runs_any_batch()
    {
        var b = new OnnxGraphBuilder();
        b.Input("x", 1, 2, 2, 2).Output("y", 1, 2);
        var flat = b.Node("Flatten", ["x"]);
        b.Node("Gemm", [flat, b.Weight("w", Enumerable.Repeat(0.5, 16).ToArray(), 2, 8)], ["y"], Int("transB", 1));
        var model = b.Build();
        using var graph = TorchGraph.Create(model);
        Assert.Null(graph.FixedBatch);
        using var scope = torch.NewDisposeScope();
        Assert.Equal([3L, 2], graph.Forward(torch.ones(3, 2, 2, 2)).Outputs[0].shape);
        Assert.Equal(1, Dsg.Core.Inspection.ExecutorVerifier.Verify(model, batchSize: 4).BatchSize);
    }

    [Fact]
    public void Concurrent_forward_passes_agree_with_sequential_ones()
    {
        using var graph = TorchGraph.Create(TestModels.SmallCnn());
        var batches = Enumerable.Range(0, 4).Select(i => Dsg.Core.Inspection.ExecutorVerifier.StandardNormal(i, 3 * 64)).ToArray();

        float[] Run(float[] data)
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            return graph.Forward(torch.tensor(data, [3L, 1, 8, 8]), ForwardCapture.BatchNormInputs).Outputs[0].data<float>().ToArray();
        }

        var sequential = batches.Select(Run).ToArray();
        var concurrent = new float[batches.Length][];
        Parallel.For(0, batches.Length * 5, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => concurrent[i % batches.Length] = Run(batches[i % batches.Length]));
        for (int i = 0; i < batches.Length; i++)
        {
            Assert.All(sequential[i].Zip(concurrent[i]), pair => Assert.Equal(pair.First, pair.Second, 1e-6f));
        }
    }
}
