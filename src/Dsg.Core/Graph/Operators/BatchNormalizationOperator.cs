using Dsg.Core.Graph.Execution;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Dsg.Core.Graph.Operators;

/// <summary>
/// BatchNormalization in inference form: y = scale * (x - mean) / sqrt(var + epsilon) + bias with the running
/// statistics. Training mode (training_mode=1, or spatial=0 before opset 9) and consumed running-statistics
/// outputs are refused with DSG0205; unused extra outputs are harmless and ignored.
/// </summary>
internal sealed class BatchNormalizationOperator : IOperator
{
    public string OpType => "BatchNormalization";

    public OperatorKernel Build(NodeContext node)
    {
        if (node.Int("training_mode", 0) != 0)
        {
            throw node.Unsupported("training_mode=1 (batch statistics) is not supported; export the model in eval mode.");
        }

        if (node.Opset < 9 && node.Int("spatial", 1) != 1)
        {
            throw node.Unsupported("spatial=0 (per-activation statistics) is not supported.");
        }

        for (int i = 1; i < node.OutputCount; i++)
        {
            if (node.IsOutputUsed(i))
            {
                throw node.Unsupported($"its training-time output {i} ('{node.Node.Output[i]}') is consumed; only the normalised output is supported.");
            }
        }

        if (node.InputCount < 5)
        {
            throw node.Unsupported("it needs five inputs (X, scale, B, mean, var).");
        }

        double epsilon = node.Float("epsilon", 1e-5f);
        bool vectors = Enumerable.Range(1, 4).All(i => node.Constant(i) is { ndim: 1 });
        return vectors ? new VectorStatisticsKernel(epsilon) : new BatchNormKernel(epsilon);
    }

    /// <summary>The usual case: four constant [C] statistics, passed straight to F.batch_norm.</summary>
    private sealed class VectorStatisticsKernel(double epsilon) : SingleOutputKernel
    {
        protected override Tensor Compute(ReadOnlySpan<Tensor?> inputs) =>
            F.batch_norm(inputs[0]!, inputs[3]!, inputs[4]!, inputs[1]!, inputs[2]!, training: false, eps: epsilon);
    }

    private sealed class BatchNormKernel(double epsilon) : SingleOutputKernel
    {
        protected override Tensor Compute(ReadOnlySpan<Tensor?> inputs)
        {
            var x = inputs[0]!;
            if (inputs[1]!.ndim == 1 && inputs[2]!.ndim == 1 && inputs[3]!.ndim == 1 && inputs[4]!.ndim == 1)
            {
                return F.batch_norm(x, inputs[3]!, inputs[4]!, inputs[1]!, inputs[2]!, training: false, eps: epsilon);
            }

            using var scale = inputs[1]!.flatten();
            using var bias = inputs[2]!.flatten();
            using var mean = inputs[3]!.flatten();
            using var variance = inputs[4]!.flatten();
            return F.batch_norm(x, mean, variance, scale, bias, training: false, eps: epsilon);
        }
    }
}
