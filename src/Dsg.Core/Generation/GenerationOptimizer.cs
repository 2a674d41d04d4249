namespace Dsg.Core.Generation;

/// <summary>The optimiser that updates the images.</summary>
public enum GenerationOptimizer
{
    /// <summary>Adam (the DSG research code's).</summary>
    Adam,

    /// <summary>Rectified Adam: Adam with its early steps' variance rectified (what Sony MCT's data generation uses).</summary>
    RAdam,
}
