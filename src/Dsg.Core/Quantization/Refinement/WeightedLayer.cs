using Dsg.Core.Graph.Execution;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Dsg.Core.Quantization.Refinement;

/// <summary>
/// One Conv (1-, 2- or 3-D, groups, strides, dilations, pads, auto_pad), Gemm (A not transposed, C a vector or absent)
/// or MatMul of a BN-folded model as a TorchSharp function of its input and a replaceable weight, with the node's own
/// bias: what AdaRound reconstructs. Other weighted nodes (ConvTranspose, Gemm with a matrix C) are not refined.
/// </summary>
internal sealed class WeightedLayer
{
    private readonly string _opType;
    private readonly long[] _strides = [];
    private readonly long[] _dilations = [];
    private readonly long[]? _pads;
    private readonly string _autoPad = "NOTSET";
    private readonly long _groups = 1;
    private readonly bool _transB;
    private readonly double _alpha = 1;
    private readonly double _beta = 1;

    private readonly (double Min, double Max)? _activation;

    private WeightedLayer(NodeProto node, float[] weight, long[] dims, float[]? bias, (double Min, double Max)? activation)
    {
        _activation = activation;
        _opType = node.OpType;
        Weight = weight;
        Dims = dims;
        Bias = bias;
        if (_opType == "Conv")
        {
            int rank = dims.Length - 2;
            _strides = Ints(node, "strides") ?? Enumerable.Repeat(1L, rank).ToArray();
            _dilations = Ints(node, "dilations") ?? Enumerable.Repeat(1L, rank).ToArray();
            _pads = Ints(node, "pads");
            _autoPad = node.Attribute.FirstOrDefault(a => a.Name == "auto_pad")?.S.ToStringUtf8() is { Length: > 0 } pad ? pad : "NOTSET";
            _groups = GraphIndex.IntAttribute(node, "group", 1);
        }
        else if (_opType == "Gemm")
        {
            _transB = GraphIndex.IntAttribute(node, "transB", 0) != 0;
            _alpha = GraphIndex.FloatAttribute(node, "alpha", 1f);
            _beta = GraphIndex.FloatAttribute(node, "beta", 1f);
        }
    }

    /// <summary>The fp32 weight, in the initializer's layout.</summary>
    public float[] Weight { get; }

    /// <summary>The weight's shape.</summary>
    public long[] Dims { get; }

    /// <summary>The fp32 bias (Conv's B, Gemm's C), or null.</summary>
    public float[]? Bias { get; }

    /// <summary>The layer for a planned weight site; null when the node is not one AdaRound refines.</summary>
    public static WeightedLayer? For(NodeProto node, GraphIndex index, OnnxModel model)
    {
        if (!GraphIndex.IsDefaultDomain(node) || node.Input.Count < 2 || !index.IsInitializer(node.Input[1]))
        {
            return null;
        }

        var tensor = index.Initializers[node.Input[1]];
        var dims = OnnxTensor.Shape(tensor);
        float[]? bias = null;
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            if (index.Constant(node.Input[2]) is not { } c || c.Dims.Count != 1)
            {
                return null;
            }

            bias = index.Floats(node.Input[2], model);
        }

        bool fits = node.OpType switch
        {
            "Conv" => dims.Length is >= 3 and <= 5 && (bias is null || bias.Length == dims[0]),
            "Gemm" => dims.Length == 2 && GraphIndex.IntAttribute(node, "transA", 0) == 0
                && (bias is null || bias.Length == (GraphIndex.IntAttribute(node, "transB", 0) != 0 ? dims[0] : dims[1])),
            "MatMul" => dims.Length == 2 && node.Input.Count == 2,
            _ => false,
        };
        return fits ? new WeightedLayer(node, OnnxTensor.ToFloats(tensor, model), dims, bias, ActivationAfter(node, index, model)) : null;
    }

    /// <summary>The output's range when the layer's only consumer is a Relu or a Clip with constant bounds (the paper's f_a); null otherwise.</summary>
    private static (double Min, double Max)? ActivationAfter(NodeProto node, GraphIndex index, OnnxModel model)
    {
        if (index.GraphOutputs.Contains(node.Output[0]) || index.Consumers(node.Output[0]) is not [var only] || only.Input != 0
            || !GraphIndex.IsDefaultDomain(only.Node))
        {
            return null;
        }

        if (only.Node.OpType == "Relu")
        {
            return (0, double.PositiveInfinity);
        }

        if (only.Node.OpType != "Clip")
        {
            return null;
        }

        double Bound(int input, double fallback) =>
            only.Node.Input.Count > input && only.Node.Input[input].Length > 0
                ? index.Constant(only.Node.Input[input]) is not null ? index.Floats(only.Node.Input[input], model)[0] : double.NaN
                : fallback;
        double min = Bound(1, double.NegativeInfinity), max = Bound(2, double.PositiveInfinity);
        return double.IsNaN(min) || double.IsNaN(max) ? null : (min, max);
    }

    /// <summary>
    /// The activation that follows the layer (Relu, or Clip with constant bounds) applied to <paramref name="output"/>, or
    /// <paramref name="output"/> itself when none does: AdaRound compares f_a(W̃x̃) with f_a(Wx), so errors the activation
    /// removes (negative pre-activations before a Relu) cost nothing.
    /// </summary>
    public Tensor Activate(Tensor output)
    {
        if (_activation is not { } range)
        {
            return output.alias();
        }

        if (range.Min == 0 && double.IsPositiveInfinity(range.Max))
        {
            return F.relu(output);
        }

        using var scope = NewDisposeScope();
        var min = double.IsNegativeInfinity(range.Min) ? null : torch.tensor(range.Min, output.dtype);
        var max = double.IsPositiveInfinity(range.Max) ? null : torch.tensor(range.Max, output.dtype);
        return output.clamp(min, max).MoveToOuterDisposeScope();
    }

    /// <summary>The layer's output for input <paramref name="x"/> with weight <paramref name="weight"/> (shaped like <see cref="Dims"/>) and the node's bias.</summary>
    public Tensor Apply(Tensor x, Tensor weight, Tensor? bias)
    {
        using var scope = NewDisposeScope();
        Tensor y = _opType switch
        {
            "Conv" => Convolve(x, weight, bias),
            "Gemm" => Gemm(x, weight, bias),
            _ => x.matmul(weight),
        };
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>α·x·B′ + β·C as one F.linear (B′ = B, or Bᵀ without transB), so no scalar crosses into libtorch.</summary>
    private Tensor Gemm(Tensor x, Tensor weight, Tensor? bias)
    {
        var w = _transB ? weight : weight.t();
        if (_alpha != 1)
        {
            w = w.mul(torch.tensor(_alpha, w.dtype));
        }

        var b = bias is not null && _beta != 1 ? bias.mul(torch.tensor(_beta, bias.dtype)) : bias;
        return F.linear(x, w, b);
    }

    private Tensor Convolve(Tensor x, Tensor weight, Tensor? bias)
    {
        int rank = Dims.Length - 2;
        var kernel = Dims[2..];
        long[] pads = _autoPad switch
        {
            "SAME_UPPER" or "SAME_LOWER" => SpatialPadding.Same(_autoPad == "SAME_UPPER", x.shape.AsSpan(2), kernel, _strides, _dilations),
            "VALID" => new long[2 * rank],
            _ => _pads ?? new long[2 * rank],
        };
        bool symmetric = Enumerable.Range(0, rank).All(i => pads[i] == pads[rank + i]);
        var input = x;
        long[] padding = pads[..rank];
        if (!symmetric)
        {
            var torchPads = new long[2 * rank];
            for (int i = 0; i < rank; i++)
            {
                torchPads[2 * i] = pads[rank - 1 - i];
                torchPads[2 * i + 1] = pads[2 * rank - 1 - i];
            }

            input = F.pad(x, torchPads);
            padding = new long[rank];
        }

        return rank switch
        {
            1 => F.conv1d(input, weight, bias, _strides[0], padding[0], _dilations[0], _groups),
            2 => F.conv2d(input, weight, bias, _strides, padding, _dilations, _groups),
            _ => F.conv3d(input, weight, bias, _strides, padding, _dilations, _groups),
        };
    }

    private static long[]? Ints(NodeProto node, string name) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a && a.Ints.Count > 0 ? a.Ints.ToArray() : null;
}
