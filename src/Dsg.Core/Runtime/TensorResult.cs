namespace Dsg.Core.Runtime;

/// <summary>One output of an ONNX Runtime call, copied out of native memory.</summary>
/// <param name="Name">The output's name.</param>
/// <param name="Shape">Its shape.</param>
/// <param name="Data">Its values: float[], sbyte[], byte[], int[] or long[] by element type.</param>
public sealed record TensorResult(string Name, long[] Shape, Array Data)
{
    /// <summary>The values as float[] (throws when the output is not float32).</summary>
    public float[] Floats => Data as float[] ?? throw new InvalidOperationException($"Output '{Name}' holds {Data.GetType().Name}, not float[].");
}
