using Dsg.Core.Data;
using Dsg.Core.Generation;
using Dsg.Core.Graph;
using Dsg.Core.Onnx;
using Dsg.Eng;

namespace Dsg.Results;

/// <summary>Synthetic samples from Dsg's generator (zeroq, dsg) with its default settings and the given budget.</summary>
internal static class Generated
{
    public static bool Available => true;

    public static CalibrationSet Generate(string method, OnnxModel model, int samples, int iterations, int seed, string settings)
    {
        var options = GenerationOverrides.Apply(GenerationOptions.Default, settings) with
        {
            Method = method == "zeroq" ? GenerationMethod.ZeroQ : GenerationMethod.Dsg,
            Samples = samples,
            Iterations = iterations,
            Seed = seed,
        };
        using var graph = TorchGraph.Create(model, new TorchGraphOptions([1, 28, 28]));
        // The result owns its samples; the caller gets them (28×28 sets stay in memory, no scratch file to release).
        return SampleGenerator.Generate(graph, options).Samples;
    }
}
