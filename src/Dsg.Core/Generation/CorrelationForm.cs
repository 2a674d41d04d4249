namespace Dsg.Core.Generation;

/// <summary>The form of the Sample Correlation Inhibition term.</summary>
public enum CorrelationForm
{
    /// <summary>Mean squared off-diagonal entry of the batch's cosine Gram matrix (sign-stable).</summary>
    OffDiagonalCosine,

    /// <summary>GDPP: match the eigen-structure of the Gram matrix to that of a fresh N(0, 1) batch.</summary>
    Gdpp,
}
