using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core;

/// <summary>
/// Tensor arithmetic with every TorchSharp <see cref="Scalar"/> held until libtorch has read it.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 hands libtorch a Scalar's native handle and keeps no reference to the Scalar during the call, so a
/// temporary one (an implicitly converted number, or the <c>alpha = 1</c> that <c>a + b</c>, <c>add</c> and
/// <c>addcdiv</c> create inside TorchSharp) can be finalized by a collection on another thread while libtorch still
/// reads it. CI failed that way three times ("Unknown scalar type" in <c>div</c>, an assertion in <c>pow</c>, a corrupted
/// <c>alpha</c> in <c>add</c>), more often since the single malloc arena hands freed memory back at once.
/// eng/BannedSymbols.txt makes the build refuse those APIs in Dsg.Core; these methods are the ways round them: each
/// creates its Scalar, holds it across the call and disposes it.
/// </remarks>
internal static class TensorArithmetic
{
    /// <summary>The <c>alpha = 1</c> of every addition, alive for the whole process.</summary>
    public static readonly Scalar One = 1L.ToScalar();

    /// <summary><paramref name="tensor"/> squared element-wise (<c>tensor * tensor</c>: no Scalar, same value and gradient as pow(2)).</summary>
    public static Tensor Squared(this Tensor tensor) => tensor.mul(tensor);

    /// <summary><paramref name="left"/> + <paramref name="right"/>.</summary>
    public static Tensor Plus(this Tensor left, Tensor right) => left.add(right, One);

    /// <summary><paramref name="left"/> += <paramref name="right"/>, in place.</summary>
    public static Tensor PlusInPlace(this Tensor left, Tensor right) => left.add_(right, One);

    /// <summary><paramref name="tensor"/> + <paramref name="value"/>.</summary>
    public static Tensor Plus(this Tensor tensor, double value) => Held(value.ToScalar(), s => tensor.add(s, One));

    /// <summary><paramref name="tensor"/> + <paramref name="value"/> (an integer: integer tensors stay integer).</summary>
    public static Tensor Plus(this Tensor tensor, long value) => Held(value.ToScalar(), s => tensor.add(s, One));

    /// <summary><paramref name="tensor"/> − <paramref name="value"/>.</summary>
    public static Tensor Minus(this Tensor tensor, double value) => Held(value.ToScalar(), tensor.sub);

    /// <summary><paramref name="tensor"/> × <paramref name="value"/>.</summary>
    public static Tensor Times(this Tensor tensor, double value) => Held(value.ToScalar(), tensor.mul);

    /// <summary><paramref name="tensor"/> × <paramref name="value"/> (an integer: integer tensors stay integer).</summary>
    public static Tensor Times(this Tensor tensor, long value) => Held(value.ToScalar(), tensor.mul);

    /// <summary><paramref name="tensor"/> / <paramref name="value"/> (true division).</summary>
    public static Tensor DividedBy(this Tensor tensor, double value) => Held(value.ToScalar(), s => tensor.div(s));

    /// <summary><paramref name="tensor"/> / <paramref name="value"/> with the given rounding (integer index arithmetic).</summary>
    public static Tensor DividedBy(this Tensor tensor, long value, RoundingMode rounding) =>
        Held(value.ToScalar(), s => tensor.div(s, rounding));

    /// <summary><paramref name="tensor"/> mod <paramref name="value"/>.</summary>
    public static Tensor Remainder(this Tensor tensor, long value) => Held(value.ToScalar(), tensor.remainder);

    /// <summary><paramref name="tensor"/> raised to <paramref name="exponent"/>.</summary>
    public static Tensor Power(this Tensor tensor, double exponent) => Held(exponent.ToScalar(), tensor.pow);

    /// <summary><paramref name="tensor"/> with every element below <paramref name="minimum"/> raised to it.</summary>
    public static Tensor AtLeast(this Tensor tensor, double minimum) => Held(minimum.ToScalar(), tensor.clamp_min);

    /// <summary><paramref name="tensor"/> clamped to [<paramref name="minimum"/>, <paramref name="maximum"/>].</summary>
    public static Tensor Between(this Tensor tensor, double minimum, double maximum)
    {
        using var low = minimum.ToScalar();
        return Held(maximum.ToScalar(), high => tensor.clamp(low, high));
    }

    /// <summary>Element-wise <paramref name="tensor"/> &lt; <paramref name="value"/>.</summary>
    public static Tensor LessThan(this Tensor tensor, double value) => Held(value.ToScalar(), tensor.lt);

    /// <summary>Element-wise <paramref name="tensor"/> &gt; <paramref name="value"/>.</summary>
    public static Tensor GreaterThan(this Tensor tensor, double value) => Held(value.ToScalar(), tensor.gt);

    /// <summary><paramref name="tensor"/> with the elements where <paramref name="mask"/> is true set to <paramref name="value"/>.</summary>
    public static Tensor Filled(this Tensor tensor, Tensor mask, double value) => Held(value.ToScalar(), s => tensor.masked_fill(mask, s));

    /// <summary>Runs <paramref name="operation"/> on <paramref name="scalar"/>, then disposes it: the Scalar is
    /// referenced until libtorch has returned.</summary>
    private static Tensor Held(Scalar scalar, Func<Scalar, Tensor> operation)
    {
        using (scalar)
        {
            return operation(scalar);
        }
    }
}
