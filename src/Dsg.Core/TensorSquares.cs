using TorchSharp;

namespace Dsg.Core;

/// <summary>Element-wise squares without a temporary TorchSharp <c>Scalar</c>.</summary>
/// <remarks>
/// TorchSharp 0.107's <c>Tensor.Squared()</c> is <c>pow(2)</c>, with the exponent an implicitly converted Scalar that
/// nothing keeps alive once its native handle is read: a garbage collection on another thread can finalize it while
/// libtorch still reads it. CI saw it once (`INTERNAL ASSERT FAILED at c10/core/Scalar.h:279` inside
/// <c>pow_Tensor_Scalar</c>, from the generator's statistics) after the tool's single malloc arena made freed memory
/// come back at once. <c>x * x</c> needs no Scalar and has the same value and gradient. Other implicit Scalars (a tensor
/// times a double, <c>clamp_min(0)</c>) have the same exposure; the refinement code holds its constants for that reason.
/// </remarks>
internal static class TensorSquares
{
    /// <summary><paramref name="tensor"/> squared element-wise (<c>tensor * tensor</c>).</summary>
    public static torch.Tensor Squared(this torch.Tensor tensor) => tensor.mul(tensor);
}
