using Dsg.Core.Data;
using Dsg.Core.Onnx;

namespace Dsg.Results;

/// <summary>Synthetic samples from Dsg's generator (zeroq, dsg). Replaced by the generator-backed version once it lands.</summary>
internal static class Generated
{
    public static bool Available => false;

    public static CalibrationSet Generate(string method, OnnxModel model, int samples, int iterations, int seed) =>
        throw new InvalidOperationException($"Method '{method}' needs Dsg.Core.Generation, which is not in this build.");
}
