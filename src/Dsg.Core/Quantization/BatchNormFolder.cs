using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Quantization;

/// <summary>
/// Folds each inference-form BatchNormalization into the Conv or ConvTranspose that feeds it, as deployment does:
/// W' = W·s and b' = (b − μ)·s + β per output channel, with s = γ / sqrt(var + ε). The folded model computes the
/// same outputs and has no BatchNormalization where a foldable producer exists.
/// </summary>
public static class BatchNormFolder
{
    /// <summary>A folded copy of <paramref name="model"/>; returns the copy and how many BN nodes were folded.</summary>
    public static (OnnxModel Model, int Folded) Fold(OnnxModel model)
    {
        var (folded, statistics) = FoldWithStatistics(model);
        return (folded, statistics.Count);
    }

    /// <summary>
    /// <see cref="Fold"/>, also returning what each folded BatchNormalization said its output's statistics are on the data
    /// it was trained on, keyed by the tensor the folded convolution now produces.
    /// </summary>
    public static (OnnxModel Model, IReadOnlyList<FoldedBatchNorm> Statistics) FoldWithStatistics(OnnxModel model)
    {
        var result = model.Clone();
        var graph = result.Graph;
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var folded = new List<FoldedBatchNorm>();
        foreach (var bn in graph.Node.Where(n => n.OpType == "BatchNormalization" && GraphIndex.IsDefaultDomain(n)).ToList())
        {
            var index = new GraphIndex(graph);
            if (TryFold(result, index, bn, taken) is { } statistics)
            {
                folded.Add(statistics);
            }
        }

        if (folded.Count > 0)
        {
            GraphIndex.RemoveDeadNodes(graph);
        }

        GraphIndex.RemoveUnusedInitializers(graph);
        return (result, folded);
    }

    private static FoldedBatchNorm? TryFold(OnnxModel model, GraphIndex index, NodeProto bn, HashSet<string> taken)
    {
        if (bn.Input.Count < 5 || bn.Output.Count != 1 || GraphIndex.IntAttribute(bn, "training_mode", 0) != 0
            || bn.Input.Skip(1).Take(4).Any(n => index.Constant(n) is null))
        {
            return null;
        }

        var conv = index.Producer(bn.Input[0]);
        if (conv is null || conv.OpType is not ("Conv" or "ConvTranspose") || !GraphIndex.IsDefaultDomain(conv)
            || conv.Input.Count < 2 || !index.IsInitializer(conv.Input[1])
            || (conv.Input.Count > 2 && conv.Input[2].Length > 0 && index.Constant(conv.Input[2]) is null)
            || index.Consumers(bn.Input[0]).Count != 1 || index.GraphOutputs.Contains(bn.Input[0]))
        {
            return null;
        }

        var weightProto = index.Initializers[conv.Input[1]];
        var dims = OnnxTensor.Shape(weightProto);
        var w = OnnxTensor.ToFloats(weightProto, model);
        var gamma = index.Floats(bn.Input[1], model);
        var beta = index.Floats(bn.Input[2], model);
        var mean = index.Floats(bn.Input[3], model);
        var variance = index.Floats(bn.Input[4], model);
        double epsilon = GraphIndex.FloatAttribute(bn, "epsilon", 1e-5f);
        int channels = gamma.Length;
        long group = GraphIndex.IntAttribute(conv, "group", 1);
        bool transpose = conv.OpType == "ConvTranspose";
        long outChannels = transpose ? dims[1] * group : dims[0];
        if (outChannels != channels || beta.Length != channels || mean.Length != channels || variance.Length != channels)
        {
            return null;
        }

        var scale = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            scale[c] = gamma[c] / Math.Sqrt(variance[c] + epsilon);
        }

        long inner = 1;
        for (int d = 2; d < dims.Length; d++)
        {
            inner *= dims[d];
        }

        var folded = new float[w.Length];
        for (long i = 0; i < w.Length; i++)
        {
            long channel;
            if (!transpose)
            {
                channel = i / (w.Length / dims[0]);
            }
            else
            {
                long inChannel = i / (dims[1] * inner);
                long j = i / inner % dims[1];
                long g = inChannel / (dims[0] / group);
                channel = g * dims[1] + j;
            }

            folded[i] = (float)(w[i] * scale[channel]);
        }

        var bias = conv.Input.Count > 2 && conv.Input[2].Length > 0 ? index.Floats(conv.Input[2], model) : new float[channels];
        var newBias = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            newBias[c] = (float)((bias[c] - mean[c]) * scale[c] + beta[c]);
        }

        var graph = index.Graph;
        string weightName = GraphIndex.UniqueName(graph, conv.Input[1] + "_bn_folded", taken);
        string biasName = GraphIndex.UniqueName(graph, (conv.Input.Count > 2 && conv.Input[2].Length > 0 ? conv.Input[2] : conv.Input[1] + "_bias") + "_bn_folded", taken);
        graph.Initializer.Add(OnnxTensor.FromFloats(weightName, folded, dims));
        graph.Initializer.Add(OnnxTensor.FromFloats(biasName, newBias, channels));
        conv.Input[1] = weightName;
        if (conv.Input.Count > 2)
        {
            conv.Input[2] = biasName;
        }
        else
        {
            conv.Input.Add(biasName);
        }

        var stale = graph.ValueInfo.FirstOrDefault(v => v.Name == conv.Output[0]);
        if (stale is not null)
        {
            graph.ValueInfo.Remove(stale);
        }

        conv.Output[0] = bn.Output[0];
        graph.Node.Remove(bn);
        return new FoldedBatchNorm(bn.Output[0], beta, gamma.Select((g, c) => (float)(Math.Abs(g) * Math.Sqrt(variance[c] / (variance[c] + epsilon)))).ToArray());
    }
}
