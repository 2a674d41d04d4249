namespace Dsg.Core.Quantization;

/// <summary>A named set of post-training-quantization choices.</summary>
public enum QuantizationRecipe
{
    /// <summary>
    /// The deployable recipe: first and last layer at 8 bits, per-channel weights with an MSE clipping search,
    /// activation ranges from the default observer.
    /// </summary>
    Default,

    /// <summary>
    /// The DSG/ZeroQ papers' setting: every layer at the target width, per-channel min/max weights (no clipping
    /// search) and per-tensor min/max activation ranges.
    /// </summary>
    Paper,
}
