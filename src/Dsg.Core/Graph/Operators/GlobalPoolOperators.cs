using Dsg.Core.Graph.Execution;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Operators;

/// <summary>GlobalAveragePool and GlobalMaxPool: reduce every spatial dimension, keeping it as size 1.</summary>
internal static class GlobalPoolOperators
{
    /// <summary>The entries.</summary>
    public static IEnumerable<IOperator> All()
    {
        yield return ElementwiseOperators.Unary("GlobalAveragePool", _ => x => x.mean(SpatialDims(x), keepdim: true));
        yield return ElementwiseOperators.Unary("GlobalMaxPool", _ => x => x.amax(SpatialDims(x), keepdim: true));
    }

    private static long[] SpatialDims(Tensor x)
    {
        var dims = new long[x.ndim - 2];
        for (int i = 0; i < dims.Length; i++)
        {
            dims[i] = i + 2;
        }

        return dims;
    }
}
