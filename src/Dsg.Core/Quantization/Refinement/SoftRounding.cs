using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Quantization.Refinement;

/// <summary>
/// AdaRound's soft rounding: a weight is s·clamp(⌊W/s⌋ + h(V), qmin, qmax) with the rectified sigmoid
/// h(V) = clamp(σ(V)·(ζ − γ) + γ, 0, 1), which reaches 0 and 1 exactly (ζ = 1.1, γ = −0.1), and the regulariser
/// f_reg = Σ 1 − |2h(V) − 1|^β, which pushes every h(V) to 0 or 1 as β falls.
/// </summary>
public static class SoftRounding
{
    /// <summary>The stretch's upper end ζ.</summary>
    public const double Zeta = 1.1;

    /// <summary>The stretch's lower end γ.</summary>
    public const double Gamma = -0.1;

    /// <summary>h(V) = clamp(σ(V)·(ζ − γ) + γ, 0, 1), element-wise; differentiable with respect to V.</summary>
    public static Tensor Rectify(Tensor v)
    {
        using var k = new SoftRoundingConstants();
        return Rectify(v, k);
    }

    /// <summary>h(V) with the constants held by <paramref name="k"/>.</summary>
    internal static Tensor Rectify(Tensor v, SoftRoundingConstants k)
    {
        ArgumentNullException.ThrowIfNull(v);
        using var scope = NewDisposeScope();
        var h = v.sigmoid().mul(k.Stretch).add(k.Gamma, k.One).clamp(k.Zero, k.One);
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The V with h(V) = <paramref name="fraction"/> (values in [0, 1), the fractional part of W/s):
    /// V = −log((ζ − γ)/(fraction − γ) − 1), the inverse of the unclamped h.
    /// </summary>
    public static Tensor InitialLogits(Tensor fraction)
    {
        ArgumentNullException.ThrowIfNull(fraction);
        using var k = new SoftRoundingConstants();
        using var minusGamma = (-Gamma).ToScalar();
        using var scope = NewDisposeScope();
        var v = fraction.add(minusGamma, k.One).reciprocal().mul(k.Stretch).add(k.MinusOne, k.One).log().neg();
        return v.MoveToOuterDisposeScope();
    }

    /// <summary>f_reg = Σ 1 − |2h(V) − 1|^β over every element (a scalar tensor, differentiable with respect to V).</summary>
    public static Tensor Regularizer(Tensor v, double beta)
    {
        using var k = new SoftRoundingConstants();
        using var b = beta.ToScalar();
        return Regularizer(v, b, k);
    }

    /// <summary>f_reg with the constants held by <paramref name="k"/> and β as a held scalar.</summary>
    internal static Tensor Regularizer(Tensor v, Scalar beta, SoftRoundingConstants k)
    {
        ArgumentNullException.ThrowIfNull(v);
        using var scope = NewDisposeScope();
        var reg = Rectify(v, k).mul(k.Two).add(k.MinusOne, k.One).abs().pow(beta).neg().add(k.One, k.One).sum();
        return reg.MoveToOuterDisposeScope();
    }

    /// <summary>The rounding the learned V stands for: up (1) where h(V) ≥ 0.5, down (0) elsewhere.</summary>
    public static Tensor HardRounding(Tensor v)
    {
        ArgumentNullException.ThrowIfNull(v);
        using var k = new SoftRoundingConstants();
        using var scope = NewDisposeScope();
        var up = Rectify(v, k).ge(k.Half).to_type(ScalarType.Float32);
        return up.MoveToOuterDisposeScope();
    }
}
