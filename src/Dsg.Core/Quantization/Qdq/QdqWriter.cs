using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Quantization.Qdq;

/// <summary>
/// Writes a QDQ model from a BN-folded fp32 model, its plan and its calibration:
/// <list type="bullet">
/// <item>weights are stored behind a per-channel DequantizeLinear: below 8 bits as int8 (values on the b-bit symmetric
/// grid, zero point 0); at 8 bits as set by <see cref="QuantizationOptions.EightBitWeights"/>: by default int8 on the
/// 7-bit range [−63, 63], or uint8 holding q + 128 with zero point 128 (see <see cref="Uint8WeightOffset"/>);</item>
/// <item>biases are stored as int32 with scale = input scale × weight scale per channel and zero point 0;</item>
/// <item>activations get QuantizeLinear/DequantizeLinear (uint8, asymmetric, as ONNX Runtime's x86 integer kernels
/// take them); below 8 bits a Clip to the exact 2^b-level range [(0 − zp)·s, (2^b − 1 − zp)·s] comes first, so every
/// QuantizeLinear output lies in [0, 2^b − 1].</item>
/// </list>
/// Inputs, outputs (names, dynamic batch) and existing metadata are kept; Dsg's version and options are added.
/// </summary>
public static class QdqWriter
{
    /// <summary>
    /// The offset of 8-bit weights stored with <see cref="EightBitWeightStorage.Full"/>: uint8 q + 128 with zero point 128,
    /// the same symmetric values, which ONNX Runtime fuses into its U8U8 kernels. Full-range int8 weights would take its
    /// U8S8 kernels, whose int16 pair sums saturate on x86 without VNNI (255 · 127 · 2 &gt; 32767; 0.5–0.9 points at
    /// W8A8 on the test assets, docs/quantization.md); the default <see cref="EightBitWeightStorage.Reduced"/> avoids that
    /// with int8 on the 7-bit range instead.
    /// </summary>
    public const int Uint8WeightOffset = 128;

    /// <summary>Writes the quantized model.</summary>
    /// <param name="folded">The BN-folded fp32 model the plan was made for.</param>
    /// <param name="plan">The plan.</param>
    /// <param name="activations">The calibrated activations.</param>
    /// <param name="options">The quantization options.</param>
    /// <param name="refined">
    /// Weights whose rounding was learned (<see cref="Refinement.AdaRoundRefiner"/>, <see cref="Refinement.BrecqRefiner"/>), by initializer: written with their
    /// integers in place of nearest rounding, activation step sizes learned (BRECQ, QAT), which replace the calibrated ones, and biases
    /// learned (QAT), which replace the folded ones. Each weight must have the axis and grid this writer would give the weight (the
    /// scales are the nearest rounding's, so the biases' int32 scales stay the same). Null: every weight rounds to nearest.
    /// </param>
    public static QdqModel Write(OnnxModel folded, QuantizationPlan plan, IReadOnlyList<ActivationCalibration> activations, QuantizationOptions options,
        Refinement.RefinedWeights? refined = null)
    {
        activations = refined?.Apply(activations) ?? activations;
        var model = folded.Clone();
        var graph = model.Graph;
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var nodes = graph.Node.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var initializers = graph.Initializer.GroupBy(t => t.Name).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        foreach (var (name, values) in refined?.Biases ?? new Dictionary<string, float[]>())
        {
            // Learned biases (QAT) replace the folded ones before anything reads them: quantized to int32 below, or
            // left in float where the plan keeps a bias in float.
            var tensor = initializers[name];
            var replacement = OnnxTensor.FromFloats(name, values, [.. tensor.Dims]);
            graph.Initializer[graph.Initializer.IndexOf(tensor)] = replacement;
            initializers[name] = replacement;
        }

        var prefix = new List<NodeProto>();

        // Weights: one quantized copy per (initializer, axis, bits).
        var weights = new List<WeightQuantization>();
        var byNodeInput = new Dictionary<(string Node, int Input), QuantizedWeight>();
        foreach (var group in plan.Weights.GroupBy(w => (w.Initializer, w.Axis, w.Bits)))
        {
            var tensor = initializers[group.Key.Initializer];
            int gridBits = options.WeightGridBits(group.Key.Bits);
            var quantized = refined is not null && refined.Weights.TryGetValue(group.Key.Initializer, out var learned)
                && learned.Axis == group.Key.Axis && learned.Grid == IntegerGrid.Symmetric(gridBits)
                ? learned
                : WeightQuantizer.Quantize(OnnxTensor.ToFloats(tensor, model), OnnxTensor.Shape(tensor), group.Key.Axis, gridBits, options.EffectiveWeightRange);
            string name = group.Key.Initializer;
            string q = Unique(graph, name + "_quantized", taken);
            string scale = Unique(graph, name + "_scale", taken);
            string zero = Unique(graph, name + "_zero_point", taken);
            string dq = Unique(graph, name + "_dequantized", taken);
            graph.Initializer.Add(OnnxTensor.FromFloats(scale, quantized.Scales, quantized.Scales.Length));
            if (quantized.Grid.Bits == 8)
            {
                var offset = new byte[quantized.Values.Length];
                for (int i = 0; i < offset.Length; i++)
                {
                    offset[i] = (byte)(quantized.Values[i] + Uint8WeightOffset);
                }

                graph.Initializer.Add(OnnxTensor.FromUInt8s(q, offset, quantized.Dims));
                graph.Initializer.Add(OnnxTensor.FromUInt8s(zero, Enumerable.Repeat((byte)Uint8WeightOffset, quantized.Scales.Length).ToArray(), quantized.Scales.Length));
            }
            else
            {
                graph.Initializer.Add(OnnxTensor.FromInt8s(q, quantized.Values, quantized.Dims));
                graph.Initializer.Add(OnnxTensor.FromInt8s(zero, new sbyte[quantized.Scales.Length], quantized.Scales.Length));
            }
            prefix.Add(Dequantize(Unique(graph, name + "_DequantizeLinear", taken), q, scale, zero, dq, group.Key.Axis));
            foreach (var site in group)
            {
                nodes[site.Node].Input[site.InputIndex] = dq;
                byNodeInput[(site.Node, site.InputIndex)] = quantized;
                weights.Add(new WeightQuantization(site, quantized, q));
            }
        }

        var calibrated = activations.ToDictionary(a => a.Site.Tensor, StringComparer.Ordinal);

        // Biases: int32 with scale = input scale × weight scale.
        int biases = 0;
        foreach (var site in plan.Biases)
        {
            if (!calibrated.TryGetValue(site.ActivationTensor, out var input) || !byNodeInput.TryGetValue((site.Node, site.WeightInputIndex), out var weight))
            {
                continue;
            }

            var bias = OnnxTensor.ToFloats(initializers[site.Initializer], model);
            if (bias.Length != weight.Scales.Length)
            {
                continue;
            }

            var scales = new float[bias.Length];
            var values = new int[bias.Length];
            for (int c = 0; c < bias.Length; c++)
            {
                scales[c] = input.Params.Scale * weight.Scales[c];
                values[c] = (int)Math.Clamp(Math.Round(bias[c] / (double)scales[c], MidpointRounding.ToEven), int.MinValue, int.MaxValue);
            }

            string name = site.Initializer;
            string q = Unique(graph, name + "_quantized", taken);
            string scale = Unique(graph, name + "_scale", taken);
            string zero = Unique(graph, name + "_zero_point", taken);
            string dq = Unique(graph, name + "_dequantized", taken);
            graph.Initializer.Add(OnnxTensor.FromInt32s(q, values, bias.Length));
            graph.Initializer.Add(OnnxTensor.FromFloats(scale, scales, bias.Length));
            graph.Initializer.Add(OnnxTensor.FromInt32s(zero, new int[bias.Length], bias.Length));
            prefix.Add(Dequantize(Unique(graph, name + "_DequantizeLinear", taken), q, scale, zero, dq, 0));
            nodes[site.Node].Input[site.InputIndex] = dq;
            biases++;
        }

        // Activations: Q/DQ (and Clip below 8 bits) right after the producer; consumers read the DequantizeLinear output.
        var written = new List<ActivationQdq>();
        var inserted = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        var rename = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var calibration in activations)
        {
            string t = calibration.Site.Tensor;
            var p = calibration.Params;
            var list = new List<NodeProto>();
            string source = t;
            bool clip = p.Grid.Bits < 8;
            if (clip)
            {
                string lo = Unique(graph, t + "_clip_min", taken), hi = Unique(graph, t + "_clip_max", taken);
                graph.Initializer.Add(OnnxTensor.FromFloats(lo, [p.RangeMin]));
                graph.Initializer.Add(OnnxTensor.FromFloats(hi, [p.RangeMax]));
                source = Unique(graph, t + "_clipped", taken);
                var node = new NodeProto { Name = Unique(graph, t + "_Clip", taken), OpType = "Clip" };
                node.Input.AddRange([t, lo, hi]);
                node.Output.Add(source);
                list.Add(node);
            }

            string scale = Unique(graph, t + "_scale", taken), zero = Unique(graph, t + "_zero_point", taken);
            string q = Unique(graph, t + "_quantized", taken), dq = Unique(graph, t + "_dequantized", taken);
            graph.Initializer.Add(OnnxTensor.FromFloats(scale, [p.Scale]));
            graph.Initializer.Add(p.Grid.QMin >= 0 ? OnnxTensor.FromUInt8s(zero, [(byte)p.ZeroPoint]) : OnnxTensor.FromInt8s(zero, [(sbyte)p.ZeroPoint]));
            var quantize = new NodeProto { Name = Unique(graph, t + "_QuantizeLinear", taken), OpType = "QuantizeLinear" };
            quantize.Input.AddRange([source, scale, zero]);
            quantize.Output.Add(q);
            list.Add(quantize);
            list.Add(Dequantize(Unique(graph, t + "_DequantizeLinear", taken), q, scale, zero, dq, null));
            inserted[t] = list;
            rename[t] = dq;
            written.Add(new ActivationQdq(calibration, q, dq, clip));
        }

        var original = graph.Node.ToList();
        foreach (var node in original)
        {
            for (int i = 0; i < node.Input.Count; i++)
            {
                if (rename.TryGetValue(node.Input[i], out var dq))
                {
                    node.Input[i] = dq;
                }
            }
        }

        graph.Node.Clear();
        graph.Node.AddRange(prefix);
        foreach (var input in graph.Input.Select(i => i.Name).Where(inserted.ContainsKey))
        {
            graph.Node.AddRange(inserted[input]);
        }

        foreach (var node in original)
        {
            graph.Node.Add(node);
            foreach (var output in node.Output.Where(inserted.ContainsKey))
            {
                graph.Node.AddRange(inserted[output]);
            }
        }

        GraphIndex.RemoveUnusedInitializers(graph);
        SetMetadata(model.Proto, QuantizationMetadata.VersionKey, QuantizationMetadata.DsgVersion);
        SetMetadata(model.Proto, QuantizationMetadata.OptionsKey, options.ToJson());
        return new QdqModel(model, weights, written, biases);
    }

    private static NodeProto Dequantize(string name, string input, string scale, string zero, string output, int? axis)
    {
        var node = new NodeProto { Name = name, OpType = "DequantizeLinear" };
        node.Input.AddRange([input, scale, zero]);
        node.Output.Add(output);
        if (axis is { } a)
        {
            node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = a });
        }

        return node;
    }

    private static string Unique(GraphProto graph, string wanted, HashSet<string> taken) => GraphIndex.UniqueName(graph, wanted, taken);

    private static void SetMetadata(ModelProto proto, string key, string value) => QuantizationMetadata.Set(proto, key, value);
}
