using static TorchSharp.torch;

namespace Dsg.Core.Graph.Execution;

/// <summary>
/// For convolutions whose weight is computed at run time and whose attributes do not say the spatial rank: the
/// real kernel is built on the first run from the weight's rank (and reused for later runs of that rank).
/// </summary>
internal sealed class RankDeferredKernel(Func<int, OperatorKernel> build, int weightInput) : OperatorKernel
{
    private readonly OperatorKernel?[] _byRank = new OperatorKernel?[4];

    public override void Run(ReadOnlySpan<Tensor?> inputs, Span<Tensor?> outputs)
    {
        int rank = (int)inputs[weightInput]!.ndim - 2;
        if (rank is < 1 or > 3)
        {
            throw new InvalidOperationException($"a weight of rank {rank + 2} is not supported (1-D, 2-D and 3-D convolutions are).");
        }

        var kernel = _byRank[rank] ??= build(rank);
        kernel.Run(inputs, outputs);
    }
}
