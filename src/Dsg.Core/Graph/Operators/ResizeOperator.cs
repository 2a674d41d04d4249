using Dsg.Core.Graph.Execution;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Operators;

/// <summary>
/// Resize (opset 10+) and Upsample: nearest (every nearest_mode), linear and cubic, with every
/// coordinate_transformation_mode of opset 13 (tf_crop_and_resize with its roi and extrapolation value);
/// scales or sizes. Interpolation is separable, so each resized axis is one index selection (nearest) or a
/// weighted sum of two (linear) or four (cubic) index selections, which keeps it exact and differentiable.
/// Coordinates follow the ONNX reference: x_original from the output index, the neighbours nearest to it
/// (edge-clamped), and the tap weights of the mode.
/// </summary>
internal sealed class ResizeOperator(string opType) : IOperator
{
    private static readonly string[] s_coordinateModes =
        ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"];

    private static readonly string[] s_nearestModes = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"];

    public string OpType { get; } = opType;

    public OperatorKernel Build(NodeContext node)
    {
        bool upsample = OpType == "Upsample";
        bool legacy = upsample || node.Opset < 11;
        var mode = node.String("mode", "nearest").ToLowerInvariant();
        mode = mode switch
        {
            "bilinear" or "trilinear" => "linear",
            _ => mode,
        };
        if (mode is not ("nearest" or "linear" or "cubic") || (legacy && mode == "cubic"))
        {
            throw node.Unsupported($"mode '{mode}' is not supported (nearest, linear, cubic).");
        }

        var coordinateMode = legacy ? "asymmetric" : node.Choice("coordinate_transformation_mode", "half_pixel", s_coordinateModes);
        var nearestMode = legacy ? "floor" : node.Choice("nearest_mode", "round_prefer_floor", s_nearestModes);
        if (node.Int("antialias", 0) != 0)
        {
            throw node.Unsupported("antialias=1 is not supported.");
        }

        if (node.String("keep_aspect_ratio_policy", "stretch") != "stretch")
        {
            throw node.Unsupported("keep_aspect_ratio_policy other than 'stretch' is not supported.");
        }

        var settings = new ResizeSettings(mode, coordinateMode, nearestMode, node.Float("cubic_coeff_a", -0.75f),
            node.Int("exclude_outside", 0) != 0, node.Float("extrapolation_value", 0f), node.Ints("axes"));

        if (upsample && node.Opset < 9)
        {
            var scales = node.Floats("scales")?.Select(f => (double)f).ToArray() ?? throw node.Unsupported("the scales attribute is missing.");
            return new ResizeKernel(settings, _ => (scales, null, null));
        }

        if (legacy)
        {
            return new ResizeKernel(settings, inputs => (TensorValues.ToDoubles(inputs[1]!), null, null));
        }

        var constantRoi = node.ConstantDoubles(1);
        var constantScales = node.ConstantDoubles(2);
        var sizes = Int64sArgument.FromInput(node, 3);
        return new ResizeKernel(settings, inputs =>
        {
            var roi = constantRoi ?? (inputs.Length > 1 && inputs[1] is { } r ? TensorValues.ToDoubles(r) : null);
            var scales = constantScales ?? (inputs.Length > 2 && inputs[2] is { } s ? TensorValues.ToDoubles(s) : null);
            return (scales, sizes.Read(inputs), roi);
        });
    }

    private sealed record ResizeSettings(string Mode, string CoordinateMode, string NearestMode, double CubicA,
        bool ExcludeOutside, double ExtrapolationValue, long[]? Axes);

    private delegate (double[]? Scales, long[]? Sizes, double[]? Roi) ArgumentReader(ReadOnlySpan<Tensor?> inputs);

    private sealed class ResizeKernel(ResizeSettings settings, ArgumentReader readArguments) : SingleOutputKernel
    {
        protected override Tensor Compute(ReadOnlySpan<Tensor?> inputs)
        {
            var x = inputs[0]!;
            var (scales, sizes, roi) = readArguments(inputs);
            var inShape = x.shape;
            int rank = inShape.Length;
            var axes = settings.Axes?.Select(a => (int)TensorValues.NormalizeAxis(a, rank, m => new InvalidOperationException(m))).ToArray()
                ?? Enumerable.Range(0, rank).ToArray();
            var scale = Enumerable.Repeat(1.0, rank).ToArray();
            var outShape = (long[])inShape.Clone();
            if (sizes is { Length: > 0 })
            {
                Expect(sizes.Length == axes.Length, "sizes");
                for (int i = 0; i < axes.Length; i++)
                {
                    outShape[axes[i]] = sizes[i];
                    scale[axes[i]] = (double)sizes[i] / inShape[axes[i]];
                }
            }
            else if (scales is { Length: > 0 })
            {
                Expect(scales.Length == axes.Length, "scales");
                for (int i = 0; i < axes.Length; i++)
                {
                    scale[axes[i]] = scales[i];
                    outShape[axes[i]] = (long)Math.Floor(scales[i] * inShape[axes[i]]);
                }
            }
            else
            {
                throw new InvalidOperationException("neither scales nor sizes is given.");
            }

            var roiStart = new double[rank];
            var roiEnd = Enumerable.Repeat(1.0, rank).ToArray();
            if (roi is { Length: > 0 } && settings.CoordinateMode == "tf_crop_and_resize")
            {
                Expect(roi.Length == 2 * axes.Length, "roi");
                for (int i = 0; i < axes.Length; i++)
                {
                    roiStart[axes[i]] = roi[i];
                    roiEnd[axes[i]] = roi[axes.Length + i];
                }
            }

            var result = x.alias();
            for (int axis = rank - 1; axis >= 0; axis--)
            {
                bool identity = outShape[axis] == inShape[axis] && scale[axis] == 1.0 && settings.CoordinateMode != "tf_crop_and_resize";
                if (identity)
                {
                    continue;
                }

                using var previous = result;
                result = ResizeAxis(previous, axis, inShape[axis], outShape[axis], scale[axis], roiStart[axis], roiEnd[axis]);
            }

            return result;
        }

        private static void Expect(bool condition, string what)
        {
            if (!condition)
            {
                throw new InvalidOperationException($"{what} has the wrong length for the input rank.");
            }
        }

        private Tensor ResizeAxis(Tensor x, int axis, long inSize, long outSize, double scale, double roiStart, double roiEnd)
        {
            int taps = settings.Mode switch { "nearest" => 1, "linear" => 2, _ => 4 };
            var indices = new long[taps][];
            var weights = new double[taps][];
            for (int k = 0; k < taps; k++)
            {
                indices[k] = new long[outSize];
                weights[k] = new double[outSize];
            }

            var outside = new bool[outSize];
            bool anyOutside = false;
            double outputWidth = scale * inSize;
            for (long j = 0; j < outSize; j++)
            {
                double original = Original(j, inSize, outputWidth, scale, roiStart, roiEnd);
                if (settings.CoordinateMode == "tf_crop_and_resize" && (original < 0 || original > inSize - 1))
                {
                    outside[j] = anyOutside = true;
                    original = 0;
                }

                long left = (long)Math.Ceiling(original) - 1;
                double ratio = original - left;
                if (taps == 1)
                {
                    bool right = ratio == 1.0 || settings.NearestMode switch
                    {
                        "round_prefer_floor" => ratio > 0.5,
                        "round_prefer_ceil" => ratio >= 0.5,
                        "floor" => false,
                        _ => true,
                    };
                    indices[0][j] = Math.Clamp(right ? left + 1 : left, 0, inSize - 1);
                    weights[0][j] = 1;
                    continue;
                }

                var coefficients = taps == 2 ? [1 - ratio, ratio] : Cubic(ratio, settings.CubicA);
                long first = taps == 2 ? left : left - 1;
                double total = 0;
                for (int k = 0; k < taps; k++)
                {
                    long index = first + k;
                    if (settings.ExcludeOutside && (index < 0 || index >= inSize))
                    {
                        coefficients[k] = 0;
                    }

                    total += coefficients[k];
                    indices[k][j] = Math.Clamp(index, 0, inSize - 1);
                }

                for (int k = 0; k < taps; k++)
                {
                    weights[k][j] = settings.ExcludeOutside ? coefficients[k] / total : coefficients[k];
                }
            }

            Tensor result;
            if (taps == 1)
            {
                using var index = TensorValues.Int64Tensor(indices[0], x.device);
                result = x.index_select(axis, index);
            }
            else
            {
                var weightShape = Enumerable.Repeat(1L, (int)x.ndim).ToArray();
                weightShape[axis] = outSize;
                result = torch.zeros(1, x.dtype, x.device);
                for (int k = 0; k < taps; k++)
                {
                    using var index = TensorValues.Int64Tensor(indices[k], x.device);
                    using var gathered = x.index_select(axis, index);
                    using var weight = torch.tensor(weights[k], x.dtype, x.device).reshape(weightShape);
                    using var term = gathered.mul(weight);
                    using var previous = result;
                    result = previous.Plus(term);
                }
            }

            if (!anyOutside)
            {
                return result;
            }

            var maskShape = Enumerable.Repeat(1L, (int)x.ndim).ToArray();
            maskShape[axis] = outSize;
            using (result)
            {
                using var mask = torch.tensor(outside, device: x.device).reshape(maskShape);
                return result.Filled(mask, settings.ExtrapolationValue);
            }
        }

        private double Original(long j, long inSize, double outputWidth, double scale, double roiStart, double roiEnd) =>
            settings.CoordinateMode switch
            {
                "align_corners" => outputWidth == 1 ? 0 : j * (inSize - 1) / (outputWidth - 1),
                "asymmetric" => j / scale,
                "tf_half_pixel_for_nn" => (j + 0.5) / scale,
                "tf_crop_and_resize" => (outputWidth == 1
                    ? (roiEnd - roiStart) * (inSize - 1) / 2
                    : j * (roiEnd - roiStart) * (inSize - 1) / (outputWidth - 1)) + roiStart * (inSize - 1),
                "pytorch_half_pixel" => outputWidth == 1 ? -0.5 : (j + 0.5) / scale - 0.5,
                _ => (j + 0.5) / scale - 0.5,
            };

        private static double[] Cubic(double ratio, double a) =>
        [
            ((a * (ratio + 1) - 5 * a) * (ratio + 1) + 8 * a) * (ratio + 1) - 4 * a,
            ((a + 2) * ratio - (a + 3)) * ratio * ratio + 1,
            ((a + 2) * (1 - ratio) - (a + 3)) * (1 - ratio) * (1 - ratio) + 1,
            ((a * (2 - ratio) - 5 * a) * (2 - ratio) + 8 * a) * (2 - ratio) - 4 * a,
        ];
    }
}
