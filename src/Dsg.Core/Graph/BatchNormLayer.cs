using static TorchSharp.torch;

namespace Dsg.Core.Graph;

/// <summary>
/// One BatchNormalization node with constant statistics, as DSG sees it. The tensors are float32 vectors of
/// length <see cref="Channels"/> on the graph's device with requires_grad false; the graph owns them.
/// </summary>
public sealed class BatchNormLayer
{
    internal BatchNormLayer(int index, string nodeName, string inputName, Tensor scale, Tensor bias, Tensor mean,
        Tensor variance, double epsilon)
    {
        Index = index;
        NodeName = nodeName;
        InputName = inputName;
        Channels = (int)scale.shape[0];
        Scale = scale;
        Bias = bias;
        Mean = mean;
        Variance = variance;
        Epsilon = epsilon;
        (InferenceScale, InferenceShift) = Affine(scale, bias, mean, variance, epsilon);
    }

    /// <summary>Position in <see cref="TorchGraph.BatchNormLayers"/> (execution order).</summary>
    public int Index { get; }

    /// <summary>The node's name (or a generated description when the node has none).</summary>
    public string NodeName { get; }

    /// <summary>The name of the value the node normalises.</summary>
    public string InputName { get; }

    /// <summary>The number of channels.</summary>
    public int Channels { get; }

    /// <summary>γ.</summary>
    public Tensor Scale { get; }

    /// <summary>β.</summary>
    public Tensor Bias { get; }

    /// <summary>The running mean μ.</summary>
    public Tensor Mean { get; }

    /// <summary>The running variance v.</summary>
    public Tensor Variance { get; }

    /// <summary>The node's epsilon.</summary>
    public double Epsilon { get; }

    /// <summary>α_c = γ_c / sqrt(v_c + ε): the layer is y = α_c·x + β_c per channel (libtorch's own inference form).</summary>
    internal float[] InferenceScale { get; }

    /// <summary>β_c = bias_c − μ_c·α_c.</summary>
    internal float[] InferenceShift { get; }

    private static (float[] Scale, float[] Shift) Affine(Tensor scale, Tensor bias, Tensor mean, Tensor variance, double epsilon)
    {
        float[] Values(Tensor t)
        {
            using var host = t.detach().cpu().to(ScalarType.Float32).contiguous();
            return host.data<float>().ToArray();
        }

        var (gamma, beta, mu, v) = (Values(scale), Values(bias), Values(mean), Values(variance));
        var alpha = new float[gamma.Length];
        var shift = new float[gamma.Length];
        for (int c = 0; c < alpha.Length; c++)
        {
            // In float, as libtorch computes them (batch_norm_cpu_transform_input), so both forms give the same outputs.
            float inverse = 1f / MathF.Sqrt(v[c] + (float)epsilon);
            alpha[c] = inverse * gamma[c];
            shift[c] = beta[c] - mu[c] * alpha[c];
        }

        return (alpha, shift);
    }
}
