namespace Dsg.Core.Generation;

/// <summary>How calibration samples are synthesised.</summary>
public enum GenerationMethod
{
    /// <summary>Diverse Sample Generation: slack per-sample BN alignment, layerwise enhancement, correlation inhibition, priors.</summary>
    Dsg,

    /// <summary>ZeroQ: exact alignment of batch BN statistics (no slack, no enhancement, no correlation term).</summary>
    ZeroQ,

    /// <summary>Plain noise in the input space (N(m, s²) per channel of the input convention), no optimisation.</summary>
    Gaussian,
}
