using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Quantization.Refinement;

/// <summary>
/// The scalars the soft rounding's hot loop passes to libtorch, created once and held until disposed. TorchSharp turns
/// a .NET number (and an omitted alpha) into a temporary native scalar on every call, which the collector may finalize
/// while libtorch still reads it; these stay reachable for as long as the loop runs.
/// </summary>
internal sealed class SoftRoundingConstants : IDisposable
{
    public SoftRoundingConstants()
    {
        One = 1.0.ToScalar();
        Zero = 0.0.ToScalar();
        Two = 2.0.ToScalar();
        MinusOne = (-1.0).ToScalar();
        Stretch = (SoftRounding.Zeta - SoftRounding.Gamma).ToScalar();
        Gamma = SoftRounding.Gamma.ToScalar();
        Half = 0.5.ToScalar();
    }

    public Scalar One { get; }

    public Scalar Zero { get; }

    public Scalar Two { get; }

    public Scalar MinusOne { get; }

    /// <summary>ζ − γ.</summary>
    public Scalar Stretch { get; }

    /// <summary>γ.</summary>
    public Scalar Gamma { get; }

    public Scalar Half { get; }

    public void Dispose()
    {
        foreach (var scalar in new[] { One, Zero, Two, MinusOne, Stretch, Gamma, Half })
        {
            scalar.Dispose();
        }
    }
}
