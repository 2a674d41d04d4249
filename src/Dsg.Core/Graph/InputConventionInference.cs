using Dsg.Core.Graph.Execution;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Graph;

/// <summary>
/// Finds a model's input convention (per-channel mean and standard deviation of the inputs it was trained on) from
/// its first convolution and the BatchNormalization after it, optionally through a chain of elementwise affine ops
/// (Sub, Add, Mul, Div with constant scalar or per-channel operands) on the input. The BN running mean is linear in
/// the input mean and the BN running variance in the input variance, through the kernel; the fit is written out in
/// docs/generation.md ("Input conventions"). When the input does not reach such a pair, or the fit is degenerate,
/// the result is N(0, 1), marked <see cref="InputConvention.Assumed"/>.
/// </summary>
public static class InputConventionInference
{
    private const int MaxChainLength = 32;

    /// <summary>Infers the convention; never throws for the shape of the graph (it falls back to N(0, 1), assumed).</summary>
    /// <param name="model">The fp32 model.</param>
    /// <param name="inputShape">C,H,W when the model's input leaves them dynamic (gives the image size padding depends on).</param>
    public static InputConvention Infer(OnnxModel model, IReadOnlyList<long>? inputShape = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph;
        var inputs = graph.Input.Where(i => !model.Initializers.ContainsKey(i.Name)).ToList();
        if (inputs.Count != 1)
        {
            return Assumed($"the model has {inputs.Count} inputs, not one image input");
        }

        var constants = Constants(model);
        var consumers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            foreach (var name in node.Input.Where(n => n.Length > 0).Distinct())
            {
                if (!consumers.TryGetValue(name, out var list))
                {
                    consumers[name] = list = [];
                }

                list.Add(node);
            }
        }

        var chain = new ChannelAffine([1.0], [0.0]);
        var steps = new List<string>();
        bool averaged = false;
        string current = inputs[0].Name;
        for (int step = 0; step < MaxChainLength; step++)
        {
            var next = ConsumersOf(consumers, current);
            if (next.Count != 1)
            {
                return Assumed(next.Count == 0
                    ? "the input reaches no Conv"
                    : $"the input feeds {next.Count} nodes ({string.Join(", ", next.Select(Describe))}) before any Conv");
            }

            var node = next[0];
            switch (node.OpType)
            {
                case "Identity":
                    current = node.Output[0];
                    continue;
                case "Add" or "Sub" or "Mul" or "Div":
                    int position = node.Input.IndexOf(current);
                    if (node.Input.Count != 2 || node.Input[1 - position] == current
                        || !constants.TryGetValue(node.Input[1 - position], out var operandTensor))
                    {
                        return Assumed($"the input goes through {Describe(node)}, whose other operand is not a constant");
                    }

                    var operand = ChannelOperand(operandTensor, model);
                    var composed = operand is null ? null : chain.Then(node.OpType, operandFirst: position == 1, operand.Value.Values);
                    if (composed is null)
                    {
                        return Assumed($"the input goes through {Describe(node)}, which is not an affine map per channel");
                    }

                    averaged |= operand!.Value.Averaged;
                    chain = composed;
                    steps.Add(Describe(node));
                    current = node.Output[0];
                    continue;
                case "Conv" when node.Input.Count >= 2 && node.Input[0] == current:
                    return FitConvolution(model, node, consumers, constants, inputs[0], inputShape, chain, steps, averaged);
                default:
                    return Assumed($"the input reaches {Describe(node)} before any Conv");
            }
        }

        return Assumed($"the input goes through more than {MaxChainLength} elementwise ops before any Conv");
    }

    /// <summary>
    /// The convention to generate with: declared values win field by field over inferred ones. A declared range
    /// clamps inferred values into it (the mean inside, the standard deviation at most half the width); with nothing
    /// inferred, a declared range alone gives mean (MIN+MAX)/2 and standard deviation (MAX−MIN)/4.
    /// </summary>
    /// <exception cref="DsgException">DSG0301 when a declared list does not have one value or one per input channel, or a value is bad.</exception>
    public static InputConvention Resolve(OnnxModel model, InputConventionDeclaration declared, IReadOnlyList<long>? inputShape = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(declared);
        var inferred = declared.Mean is not null && declared.Std is not null ? null : Infer(model, inputShape);
        var resolved = Merge(declared, inferred);
        int? channels = InputChannels(model, inputShape) ?? (inferred is { Source: InputConvention.Inferred } ? inferred.Mean.Count : null);
        return channels is int c ? resolved.ForChannels(c) : resolved.Validate();
    }

    /// <summary>Declared fields over inferred ones (see <see cref="Resolve"/>).</summary>
    internal static InputConvention Merge(InputConventionDeclaration declared, InputConvention? inferred)
    {
        var range = declared.Range;
        bool fitted = inferred is { Source: InputConvention.Inferred };
        IReadOnlyList<double> mean, std;
        string meanSource, stdSource;
        if (declared.Mean is not null)
        {
            (mean, meanSource) = (declared.Mean, InputConvention.Declared);
        }
        else if (fitted)
        {
            (mean, meanSource) = (range is null ? inferred!.Mean : inferred!.Mean.Select(m => Math.Clamp(m, range.Min, range.Max)).ToArray(), InputConvention.Inferred);
        }
        else if (range is not null)
        {
            (mean, meanSource) = ([(range.Min + range.Max) / 2], InputConvention.Declared);
        }
        else
        {
            (mean, meanSource) = (InputConvention.Standard.Mean, InputConvention.Assumed);
        }

        if (declared.Std is not null)
        {
            (std, stdSource) = (declared.Std, InputConvention.Declared);
        }
        else if (fitted)
        {
            (std, stdSource) = (range is null ? inferred!.Std : inferred!.Std.Select(s => Math.Min(s, (range.Max - range.Min) / 2)).ToArray(), InputConvention.Inferred);
        }
        else if (range is not null)
        {
            (std, stdSource) = ([(range.Max - range.Min) / 4], InputConvention.Declared);
        }
        else
        {
            (std, stdSource) = (InputConvention.Standard.Std, InputConvention.Assumed);
        }

        string source = new[] { meanSource, stdSource }.Contains(InputConvention.Assumed) ? InputConvention.Assumed
            : new[] { meanSource, stdSource }.Contains(InputConvention.Inferred) ? InputConvention.Inferred
            : InputConvention.Declared;
        string detail;
        if (meanSource == stdSource)
        {
            detail = meanSource == InputConvention.Declared
                ? declared.Mean is null && declared.Std is null ? "declared range; mean and std from it" : "declared"
                : inferred?.Detail ?? InputConvention.Standard.Detail;
        }
        else
        {
            string Part(string what, string from) => from == InputConvention.Declared
                ? $"{what} declared" + (what == "mean" ? declared.Mean is null ? " (from the range)" : "" : declared.Std is null ? " (from the range)" : "")
                : $"{what} {inferred?.Detail ?? InputConvention.Standard.Detail}";
            detail = $"{Part("mean", meanSource)}; {Part("std", stdSource)}";
        }

        if (range is not null && fitted && (declared.Mean is null || declared.Std is null))
        {
            detail += "; clamped into the declared range";
        }

        return new InputConvention(mean, std, range, source, detail);
    }

    /// <summary>The input's channel count: the declared shape's, else the model's static one; null when unknown.</summary>
    internal static int? InputChannels(OnnxModel model, IReadOnlyList<long>? inputShape)
    {
        if (inputShape is { Count: 3 } && inputShape[0] > 0)
        {
            return (int)inputShape[0];
        }

        var inputs = model.Graph.Input.Where(i => !model.Initializers.ContainsKey(i.Name)).ToList();
        var dims = inputs.Count == 1 ? inputs[0].Type?.TensorType?.Shape?.Dim : null;
        return dims is { Count: 4 } && dims[1].HasDimValue && dims[1].DimValue > 0 ? (int)dims[1].DimValue : null;
    }

    private static InputConvention FitConvolution(OnnxModel model, NodeProto conv, Dictionary<string, List<NodeProto>> consumers,
        Dictionary<string, TensorProto> constants, ValueInfoProto input, IReadOnlyList<long>? inputShape, ChannelAffine chain,
        List<string> steps, bool averaged)
    {
        var after = ConsumersOf(consumers, conv.Output[0]);
        if (after.Count != 1 || after[0].OpType != "BatchNormalization" || after[0].Input[0] != conv.Output[0])
        {
            return Assumed($"{Describe(conv)} is followed by {(after.Count == 0 ? "nothing" : string.Join(", ", after.Select(Describe)))}, not only BatchNormalization");
        }

        var bn = after[0];
        if (!constants.TryGetValue(conv.Input[1], out var weightTensor) || weightTensor.Dims.Count != 4
            || bn.Input.Count < 5 || !constants.TryGetValue(bn.Input[3], out var meanTensor) || !constants.TryGetValue(bn.Input[4], out var varianceTensor))
        {
            return Assumed($"{Describe(conv)} + {Describe(bn)} is not a 2-D convolution with constant weights and BatchNorm statistics");
        }

        TensorProto? biasTensor = null;
        if (conv.Input.Count > 2 && conv.Input[2].Length > 0 && !constants.TryGetValue(conv.Input[2], out biasTensor))
        {
            return Assumed($"the bias of {Describe(conv)} is not a constant");
        }

        long outputs = weightTensor.Dims[0], groupInputs = weightTensor.Dims[1];
        long[] kernel = [weightTensor.Dims[2], weightTensor.Dims[3]];
        long groups = Int(conv, "group") ?? 1;
        var weights = OnnxTensor.ToFloats(weightTensor, model);
        var runningMean = OnnxTensor.ToFloats(meanTensor, model);
        var runningVariance = OnnxTensor.ToFloats(varianceTensor, model);
        var bias = biasTensor is null ? new float[outputs] : OnnxTensor.ToFloats(biasTensor, model);
        // The values must fill the dimensions: a tensor of another type (a string, say) converts to fewer.
        if (groups < 1 || outputs % groups != 0 || runningMean.Length != outputs || runningVariance.Length != outputs || bias.Length != outputs
            || weights.LongLength != outputs * groupInputs * kernel[0] * kernel[1])
        {
            return Assumed($"the shapes of {Describe(conv)} and {Describe(bn)} do not fit together");
        }

        int channels = (int)(groupInputs * groups);
        if ((chain.Scale.Length > 1 && chain.Scale.Length != channels) || (chain.Shift.Length > 1 && chain.Shift.Length != channels))
        {
            return Assumed($"the per-channel operands before {Describe(conv)} do not have its {channels} input channels");
        }

        var (height, width) = SpatialSize(input, inputShape);
        var coverage = CoverageOf(conv, kernel, height, width);
        if (coverage is null)
        {
            return Assumed($"{Describe(conv)} has geometry the inference does not read (or no output positions)");
        }

        var fit = ConvolutionMoments.Compute(weights, bias, (int)outputs, (int)groupInputs, (int)groups, kernel, coverage)
            .Fit(runningMean, runningVariance);
        if (fit is null)
        {
            return Assumed($"the fit to {Describe(conv)} + {Describe(bn)} is degenerate");
        }

        // The fit is for the convolution's input y = a·x + b; the model's input is x = (y − b) / a.
        var mean = new double[channels];
        var std = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            double a = chain.Scale[chain.Scale.Length == 1 ? 0 : c], b = chain.Shift[chain.Shift.Length == 1 ? 0 : c];
            mean[c] = (fit.Value.Mean[c] - b) / a;
            std[c] = fit.Value.Std / Math.Abs(a);
        }

        if (mean.Concat(std).Any(v => !double.IsFinite(v)) || std.Any(s => s <= 0))
        {
            return Assumed($"the fit to {Describe(conv)} + {Describe(bn)} is degenerate");
        }

        string detail = $"inferred from {Describe(conv)} + {Describe(bn)}";
        if (steps.Count > 0)
        {
            detail += $" through {string.Join(", ", steps)}";
        }

        if (averaged)
        {
            detail += " (a spatial operand averaged per channel)";
        }

        if (height is null)
        {
            detail += " (image size unknown: borders ignored)";
        }

        return new InputConvention(mean, std, null, InputConvention.Inferred, detail);
    }

    private static ConvTapCoverage? CoverageOf(NodeProto conv, long[] kernel, long? height, long? width)
    {
        long[] strides = Ints(conv, "strides") ?? [1, 1];
        long[] dilations = Ints(conv, "dilations") ?? [1, 1];
        var kernelShape = Ints(conv, "kernel_shape");
        if (strides.Length != 2 || dilations.Length != 2 || strides.Any(s => s < 1) || dilations.Any(d => d < 1)
            || (kernelShape is not null && !kernelShape.SequenceEqual(kernel)))
        {
            return null;
        }

        if (height is not long h || width is not long w)
        {
            return ConvTapCoverage.Interior(kernel);
        }

        string autoPad = String(conv, "auto_pad") ?? "NOTSET";
        long[] pads = autoPad switch
        {
            "SAME_UPPER" or "SAME_LOWER" => SpatialPadding.Same(autoPad == "SAME_UPPER", [h, w], kernel, strides, dilations),
            "VALID" => new long[4],
            _ => Ints(conv, "pads") ?? new long[4],
        };
        return pads.Length == 4 && pads.All(p => p >= 0) ? ConvTapCoverage.Of(h, w, kernel, strides, dilations, pads) : null;
    }

    private static (long? Height, long? Width) SpatialSize(ValueInfoProto input, IReadOnlyList<long>? inputShape)
    {
        if (inputShape is { Count: 3 })
        {
            return (inputShape[1], inputShape[2]);
        }

        var dims = input.Type?.TensorType?.Shape?.Dim;
        if (dims is not { Count: 4 })
        {
            return (null, null);
        }

        return (dims[2].HasDimValue && dims[2].DimValue > 0 ? dims[2].DimValue : null,
            dims[3].HasDimValue && dims[3].DimValue > 0 ? dims[3].DimValue : null);
    }

    /// <summary>
    /// An operand of an elementwise op on an N×C×H×W input as per-channel values: a scalar, or a tensor whose
    /// dimensions (aligned from the right) are 1 except the channel's. A constant that varies over H and W too (a
    /// mean image) is averaged per channel. Null for anything else.
    /// </summary>
    private static (double[] Values, bool Averaged)? ChannelOperand(TensorProto tensor, OnnxModel model)
    {
        float[] values;
        try
        {
            values = OnnxTensor.ToFloats(tensor, model);
        }
        catch (DsgException)
        {
            return null;
        }

        if (values.Length == 1)
        {
            return ([values[0]], false);
        }

        if (tensor.Dims.Count > 4 || tensor.Dims.Count < 3)
        {
            return null;
        }

        var dims = Enumerable.Repeat(1L, 4 - tensor.Dims.Count).Concat(tensor.Dims).ToArray();
        if (dims[0] != 1 || values.Length != dims[1] * dims[2] * dims[3])
        {
            return null;
        }

        long plane = dims[2] * dims[3];
        var perChannel = new double[dims[1]];
        for (long c = 0; c < dims[1]; c++)
        {
            double sum = 0;
            for (long i = 0; i < plane; i++)
            {
                sum += values[(c * plane) + i];
            }

            perChannel[c] = sum / plane;
        }

        return (perChannel, plane > 1);
    }

    /// <summary>Initializers and the outputs of Constant nodes (tensor, value_float or value_floats).</summary>
    private static Dictionary<string, TensorProto> Constants(OnnxModel model)
    {
        var constants = new Dictionary<string, TensorProto>(model.Initializers, StringComparer.Ordinal);
        foreach (var node in model.Graph.Node.Where(n => n.OpType == "Constant" && n.Output.Count == 1))
        {
            var attribute = node.Attribute.FirstOrDefault();
            var tensor = attribute?.Name switch
            {
                "value" => attribute.T,
                "value_float" => OnnxTensor.FromFloats(node.Output[0], [attribute.F]),
                "value_floats" => OnnxTensor.FromFloats(node.Output[0], attribute.Floats.ToArray(), attribute.Floats.Count),
                _ => null,
            };
            if (tensor is not null)
            {
                constants[node.Output[0]] = tensor;
            }
        }

        return constants;
    }

    private static List<NodeProto> ConsumersOf(Dictionary<string, List<NodeProto>> consumers, string tensor) =>
        consumers.TryGetValue(tensor, out var list) ? list.Where(n => n.OpType != "Shape").ToList() : [];

    private static long? Int(NodeProto node, string name) =>
        node.Attribute.LastOrDefault(a => a.Name == name) is { } a ? a.I : null;

    private static long[]? Ints(NodeProto node, string name) =>
        node.Attribute.LastOrDefault(a => a.Name == name) is { } a ? a.Ints.ToArray() : null;

    private static string? String(NodeProto node, string name) =>
        node.Attribute.LastOrDefault(a => a.Name == name) is { } a ? a.S.ToStringUtf8() : null;

    private static string Describe(NodeProto node) =>
        string.IsNullOrEmpty(node.Name) ? $"{node.OpType} -> '{node.Output.FirstOrDefault()}'" : $"{node.OpType} '{node.Name}'";

    private static InputConvention Assumed(string reason) =>
        InputConvention.Standard with { Detail = "assumed N(0, 1): " + reason };

    /// <summary>y = Scale[c]·x + Shift[c] per channel (a single value applies to every channel).</summary>
    private sealed record ChannelAffine(double[] Scale, double[] Shift)
    {
        /// <summary>This map followed by <c>y op k</c> (or <c>k op y</c> when <paramref name="operandFirst"/>); null when that is not affine.</summary>
        public ChannelAffine? Then(string op, bool operandFirst, double[] k)
        {
            int length = Math.Max(Math.Max(Scale.Length, Shift.Length), k.Length);
            if ((Scale.Length > 1 && Scale.Length != length) || (Shift.Length > 1 && Shift.Length != length) || (k.Length > 1 && k.Length != length))
            {
                return null;
            }

            var scale = new double[length];
            var shift = new double[length];
            for (int c = 0; c < length; c++)
            {
                double a = Scale[Scale.Length == 1 ? 0 : c], b = Shift[Shift.Length == 1 ? 0 : c], v = k[k.Length == 1 ? 0 : c];
                (scale[c], shift[c]) = op switch
                {
                    "Add" => (a, b + v),
                    "Sub" when operandFirst => (-a, v - b),
                    "Sub" => (a, b - v),
                    "Mul" => (a * v, b * v),
                    "Div" when !operandFirst && v != 0 => (a / v, b / v),
                    _ => (double.NaN, double.NaN),
                };
                if (!double.IsFinite(scale[c]) || !double.IsFinite(shift[c]) || scale[c] == 0)
                {
                    return null;
                }
            }

            return new ChannelAffine(scale, shift);
        }
    }
}
