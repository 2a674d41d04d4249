using Dsg.Core.Onnx;

namespace Dsg.Core.Quantization.Refinement;

/// <summary>The planned weights a refinement can learn, and the values the others have in the quantized model.</summary>
internal static class RefinableWeights
{
    /// <summary>
    /// What every refinement checks on entry: no argument is null, the settings are in range (returned validated), and
    /// libtorch is loaded.
    /// </summary>
    /// <exception cref="DsgException">DSG0301 for settings out of range; DSG0401 without TorchSharp.</exception>
    public static AdaRoundSettings Prepare(OnnxModel folded, QuantizationPlan plan, IReadOnlyList<ActivationCalibration> activations,
        Data.CalibrationSet samples, QuantizationOptions options, AdaRoundSettings settings)
    {
        ArgumentNullException.ThrowIfNull(folded);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(activations);
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(options);
        var valid = (settings ?? throw new ArgumentNullException(nameof(settings))).Validate();
        Graph.Execution.TorchRuntime.EnsureLoaded();
        return valid;
    }

    /// <summary>
    /// One learned weight per initializer: the first planned site that uses it (in graph order), where the layer is one
    /// <see cref="WeightedLayer"/> can compute (Conv, Gemm, MatMul; ConvTranspose and Gemm with a matrix C keep nearest rounding).
    /// </summary>
    public static IReadOnlyList<(WeightSite Site, WeightedLayer Layer)> Of(OnnxModel folded, QuantizationPlan plan)
    {
        var index = new GraphIndex(folded.Graph);
        var nodes = folded.Graph.Node.ToDictionary(n => n.Name, StringComparer.Ordinal);
        return plan.Weights.DistinctBy(w => w.Initializer, StringComparer.Ordinal)
            .Select(site => (Site: site, Layer: WeightedLayer.For(nodes[site.Node], index, folded)))
            .Where(l => l.Layer is not null)
            .Select(l => (l.Site, l.Layer!))
            .ToList();
    }

    /// <summary>The layer's weight rounded to nearest on the grid and range the options give its site.</summary>
    public static QuantizedWeight Nearest(WeightSite site, WeightedLayer layer, QuantizationOptions options) =>
        WeightQuantizer.Quantize(layer.Weight, layer.Dims, site.Axis, options.WeightGridBits(site.Bits), options.EffectiveWeightRange);

    /// <summary>The dequantized value a planned weight has in the quantized model so far: learned earlier, or rounded to nearest.</summary>
    public static float[] Dequantized(OnnxModel folded, WeightSite site, IReadOnlyDictionary<string, QuantizedWeight> learned, QuantizationOptions options)
    {
        if (learned.TryGetValue(site.Initializer, out var weight))
        {
            return weight.Dequantize();
        }

        var tensor = folded.Initializers[site.Initializer];
        return WeightQuantizer.Quantize(OnnxTensor.ToFloats(tensor, folded), OnnxTensor.Shape(tensor), site.Axis, options.WeightGridBits(site.Bits),
            options.EffectiveWeightRange).Dequantize();
    }
}
