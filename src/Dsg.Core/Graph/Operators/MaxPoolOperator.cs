using Dsg.Core.Graph.Execution;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Dsg.Core.Graph.Operators;

/// <summary>
/// MaxPool 1-D/2-D/3-D: strides, dilations, ceil_mode, explicit/asymmetric pads (padded with -inf) and auto_pad;
/// the optional Indices output (row- or column-major flat indices) when the pads fit TorchSharp's pool.
/// Integer inputs are pooled in float64 and cast back (exact).
/// </summary>
internal sealed class MaxPoolOperator : IOperator
{
    public string OpType => "MaxPool";

    public OperatorKernel Build(NodeContext node)
    {
        var geometry = PoolGeometry.Read(node);
        long storageOrder = node.Int("storage_order", 0);
        bool indices = node.IsOutputUsed(1);
        if (indices && (storageOrder is not (0 or 1) || (storageOrder == 1 && geometry.Rank != 2)))
        {
            throw node.Unsupported($"storage_order={storageOrder} for the Indices output is not supported.");
        }

        return new MaxPoolKernel(geometry, indices, storageOrder == 1);
    }

    private sealed class MaxPoolKernel(PoolGeometry g, bool withIndices, bool columnMajor) : OperatorKernel
    {
        public override void Run(ReadOnlySpan<Tensor?> inputs, Span<Tensor?> outputs)
        {
            var x = inputs[0]!;
            if (!TensorValues.IsFloating(x.dtype))
            {
                using var asDouble = x.to_type(ScalarType.Float64);
                var pooled = new Tensor?[outputs.Length];
                Run([asDouble], pooled);
                using var y = pooled[0]!;
                outputs[0] = y.to_type(x.dtype);
                if (outputs.Length > 1)
                {
                    outputs[1] = pooled[1];
                }

                return;
            }

            var pads = g.Pads(x.shape.AsSpan(2));
            if (g.FitsTorchPadding(pads))
            {
                var begin = SpatialPadding.Begin(pads);
                if (withIndices)
                {
                    var (y, torchIndices) = PoolWithIndices(x, begin);
                    outputs[0] = y;
                    using (torchIndices)
                    {
                        outputs[1] = ToOnnxIndices(torchIndices, x.shape);
                    }
                }
                else
                {
                    outputs[0] = Pool(x, begin);
                }

                return;
            }

            if (withIndices)
            {
                throw new InvalidOperationException("the Indices output is not supported with pads larger than half the window or asymmetric pads.");
            }

            using var padded = F.pad(x, SpatialPadding.ToTorch(pads), value: double.NegativeInfinity);
            outputs[0] = Pool(padded, new long[g.Rank]);
        }

        private Tensor Pool(Tensor x, long[] padding) => g.Rank switch
        {
            1 => F.max_pool1d(x, g.Kernel[0], g.Strides[0], padding[0], g.Dilations[0], g.CeilMode),
            2 => F.max_pool2d(x, g.Kernel, g.Strides, padding, g.Dilations, g.CeilMode),
            _ => F.max_pool3d(x, g.Kernel, g.Strides, padding, g.Dilations, g.CeilMode),
        };

        private (Tensor Values, Tensor Indices) PoolWithIndices(Tensor x, long[] padding) => g.Rank switch
        {
            1 => F.max_pool1d_with_indices(x, g.Kernel[0], g.Strides[0], padding[0], g.Dilations[0], g.CeilMode),
            2 => F.max_pool2d_with_indices(x, g.Kernel, g.Strides, padding, g.Dilations, g.CeilMode),
            _ => F.max_pool3d_with_indices(x, g.Kernel, g.Strides, padding, g.Dilations, g.CeilMode),
        };

        /// <summary>TorchSharp indexes within each (n, c) plane; ONNX indexes the whole tensor.</summary>
        private Tensor ToOnnxIndices(Tensor torchIndices, long[] inputShape)
        {
            long plane = TensorValues.Product(inputShape.AsSpan(2));
            Tensor within = torchIndices.alias();
            if (columnMajor)
            {
                long height = inputShape[2];
                long width = inputShape[3];
                using var row = torchIndices.DividedBy(width, RoundingMode.floor);
                using var column = torchIndices.Remainder(width);
                using var scaledColumn = column.Times(height);
                within.Dispose();
                within = scaledColumn.Plus(row);
            }

            using (within)
            {
                var offsetShape = new long[inputShape.Length];
                Array.Fill(offsetShape, 1L);
                offsetShape[0] = inputShape[0];
                offsetShape[1] = inputShape[1];
                using var zero = 0L.ToScalar();
                using var end = (inputShape[0] * inputShape[1]).ToScalar();
                using var planes = torch.arange(zero, end, TensorArithmetic.One, ScalarType.Int64, within.device);
                using var offsets = planes.Times(plane).reshape(offsetShape);
                return within.Plus(offsets);
            }
        }
    }
}
