namespace Dsg.Core.Quantization;

/// <summary>The integers a b-bit value may take: unsigned [0, 2^b-1], signed [-2^(b-1), 2^(b-1)-1] or symmetric [-(2^(b-1)-1), 2^(b-1)-1].</summary>
/// <param name="Bits">Bit width, 2–8.</param>
/// <param name="QMin">Smallest integer.</param>
/// <param name="QMax">Largest integer.</param>
public readonly record struct IntegerGrid(int Bits, int QMin, int QMax)
{
    /// <summary>The unsigned range: for 8 bits [0, 255], for 4 bits [0, 15]. Used for activations (uint8 QDQ).</summary>
    public static IntegerGrid Unsigned(int bits) => new(bits, 0, (1 << bits) - 1);

    /// <summary>The full signed range: for 8 bits [-128, 127], for 4 bits [-8, 7].</summary>
    public static IntegerGrid Signed(int bits) => new(bits, -(1 << (bits - 1)), (1 << (bits - 1)) - 1);

    /// <summary>The symmetric signed range: for 8 bits [-127, 127], for 4 bits [-7, 7]. Used for weights (zero point 0).</summary>
    public static IntegerGrid Symmetric(int bits) => new(bits, -((1 << (bits - 1)) - 1), (1 << (bits - 1)) - 1);

    /// <summary>The number of levels.</summary>
    public int Levels => QMax - QMin + 1;
}
