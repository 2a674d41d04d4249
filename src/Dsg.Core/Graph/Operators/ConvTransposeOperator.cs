using Dsg.Core.Graph.Execution;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Dsg.Core.Graph.Operators;

/// <summary>
/// ConvTranspose (1-D, 2-D, 3-D): groups, dilations, strides, output_padding, output_shape, pads and auto_pad.
/// Symmetric cases map onto TorchSharp's conv_transpose; the rest run a pad-free transposed convolution and
/// then crop (or zero-extend) each spatial dimension exactly as the ONNX output-size formula says.
/// </summary>
internal sealed class ConvTransposeOperator : IOperator
{
    public string OpType => "ConvTranspose";

    public OperatorKernel Build(NodeContext node)
    {
        var weight = node.Constant(1);
        int? rank = weight is not null ? (int)weight.ndim - 2 : node.Ints("kernel_shape")?.Length;
        return rank is int known ? Build(node, known) : new RankDeferredKernel(r => Build(node, r), 1);
    }

    private static OperatorKernel Build(NodeContext node, int rank)
    {
        if (rank is < 1 or > 3)
        {
            throw node.Unsupported($"{rank}-D transposed convolution is not supported (1-D, 2-D and 3-D are).");
        }

        var (strides, dilations, pads, autoPad) = SpatialPadding.ReadGeometry(node, rank);
        var outputPadding = node.Ints("output_padding") ?? new long[rank];
        var outputShape = node.Ints("output_shape");
        if (outputPadding.Length != rank || (outputShape is not null && outputShape.Length != rank && outputShape.Length != rank + 2))
        {
            throw node.Unsupported("output_padding/output_shape do not match the spatial dimensions.");
        }

        if (outputShape is not null && outputShape.Length == rank + 2)
        {
            outputShape = outputShape[2..];
        }

        return new ConvTransposeKernel(rank, strides, dilations, pads ?? new long[2 * rank], autoPad, outputPadding,
            outputShape, node.Int("group", 1));
    }

    private sealed class ConvTransposeKernel(int rank, long[] strides, long[] dilations, long[] pads, string autoPad,
        long[] outputPadding, long[]? outputShape, long groups) : SingleOutputKernel
    {
        protected override Tensor Compute(ReadOnlySpan<Tensor?> inputs)
        {
            var x = inputs[0]!;
            var w = inputs[1]!;
            var b = inputs.Length > 2 ? inputs[2] : null;
            var begin = new long[rank];
            var end = new long[rank];
            var inShape = x.shape;
            var kShape = w.shape;
            bool native = true;
            for (int i = 0; i < rank; i++)
            {
                long full = strides[i] * (inShape[2 + i] - 1) + (kShape[2 + i] - 1) * dilations[i] + 1;
                long? target = outputShape?[i] ?? (autoPad is "SAME_UPPER" or "SAME_LOWER" ? inShape[2 + i] * strides[i] : null);
                if (target is long t)
                {
                    // Pads split as the ONNX spec says; an output larger than the computed one is zero-extended at the end.
                    long total = Math.Max(0, full + outputPadding[i] - t);
                    long half = total / 2;
                    begin[i] = autoPad == "SAME_UPPER" ? half : total - half;
                    end[i] = full + outputPadding[i] - begin[i] - t;
                }
                else
                {
                    begin[i] = pads[i];
                    end[i] = pads[rank + i];
                }

                native &= begin[i] == end[i] && begin[i] >= 0 && outputPadding[i] < Math.Max(strides[i], dilations[i]);
            }

            if (native)
            {
                return Transpose(x, w, b, begin, outputPadding);
            }

            using var unpadded = Transpose(x, w, null, new long[rank], new long[rank]);
            var torchPads = new long[2 * rank];
            for (int i = 0; i < rank; i++)
            {
                torchPads[2 * (rank - 1 - i)] = -begin[i];
                torchPads[2 * (rank - 1 - i) + 1] = outputPadding[i] - end[i];
            }

            var cropped = F.pad(unpadded, torchPads);
            if (b is null)
            {
                return cropped;
            }

            using (cropped)
            {
                var biasShape = Enumerable.Repeat(1L, rank + 2).ToArray();
                biasShape[1] = b.shape[0];
                using var bias = b.reshape(biasShape);
                return cropped.Plus(bias);
            }
        }

        private Tensor Transpose(Tensor x, Tensor w, Tensor? b, long[] padding, long[] outPadding) => rank switch
        {
            1 => F.conv_transpose1d(x, w, b, strides[0], padding[0], outPadding[0], dilations[0], groups),
            2 => F.conv_transpose2d(x, w, b, strides, padding, outPadding, dilations, groups),
            _ => F.conv_transpose3d(x, w, b, strides, padding, outPadding, dilations, groups),
        };
    }
}
