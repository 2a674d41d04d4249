namespace Dsg.Core.Quantization;

/// <summary>How the symmetric per-channel weight range is chosen.</summary>
public enum WeightRangeMethod
{
    /// <summary>Search the clipping threshold that minimises the weight's quantization MSE (per channel).</summary>
    Mse,

    /// <summary>Use the channel's largest absolute value (no clipping).</summary>
    MinMax,
}
