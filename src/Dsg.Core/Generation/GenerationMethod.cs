namespace Dsg.Core.Generation;

/// <summary>How calibration samples are synthesised.</summary>
public enum GenerationMethod
{
    /// <summary>Diverse Sample Generation: slack per-sample BN alignment, layerwise enhancement, correlation inhibition, priors.</summary>
    Dsg,

    /// <summary>ZeroQ: exact alignment of batch BN statistics (no slack, no enhancement, no correlation term).</summary>
    ZeroQ,

    /// <summary>Plain N(0, 1) noise, no optimisation.</summary>
    Gaussian,
}
