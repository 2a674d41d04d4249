using Dsg.Core.Data;
using Dsg.Tests.Shared;

namespace Dsg.Core.Tests.Quantization;

/// <summary>Shared inputs for quantization tests: the 64 real Fashion-MNIST test images and seeded noise.</summary>
internal static class TestData
{
    private static readonly Lazy<CalibrationSet> s_real = new(() =>
    {
        var (data, shape) = NpyFile.ReadFloat32(RepoPaths.Data("fmnist_test_64.npy"));
        var (labels, _) = NpyFile.ReadInt64(RepoPaths.Data("fmnist_test_64_labels.npy"));
        return new CalibrationSet(data, shape, labels);
    });

    /// <summary>64 normalised Fashion-MNIST test images with labels.</summary>
    public static CalibrationSet Real => s_real.Value;

    /// <summary>N(0, 1) noise of shape n×1×28×28.</summary>
    public static CalibrationSet Noise(int n, int seed)
    {
        var random = new Random(seed);
        var values = new float[n * 28 * 28];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }

        return new CalibrationSet(values, [n, 1, 28, 28]);
    }
}
