using Dsg.Core.Data;
using Dsg.Core.Onnx;
using Dsg.Core.Pipeline;

namespace Dsg.Results;

/// <summary>Calibration samples per method; the same samples feed every precision and recipe of one (model, method, seed).</summary>
internal sealed class SampleSources(CalibrationSet trainImages, int samples, int iterations, string generatorSettings, string cacheDir)
{
    public static readonly string[] AllMethods = ["real", "gaussian", "zeroq", "dsg"];

    public double GenerationSeconds { get; private set; }

    public CalibrationSet Get(string method, string modelName, OnnxModel model, long[] sampleShape, int seed)
    {
        switch (method)
        {
            case "real":
                return trainImages.Sample(samples, seed);
            case "gaussian":
                return GaussianCalibrationSource.Noise(samples, sampleShape, seed);
            default:
                string cached = Path.Combine(cacheDir, $"{modelName}_{method}_s{seed}_n{samples}_i{iterations}{CacheSuffix(generatorSettings)}.npy");
                if (File.Exists(cached))
                {
                    var (data, shape) = NpyFile.ReadFloat32(cached);
                    return new CalibrationSet(data, shape);
                }

                var watch = System.Diagnostics.Stopwatch.StartNew();
                var set = Generated.Generate(method, model, samples, iterations, seed, generatorSettings);
                GenerationSeconds += watch.Elapsed.TotalSeconds;
                Directory.CreateDirectory(cacheDir);
                NpyFile.WriteFloat32(cached, set.ToArray(), set.Shape);
                return set;
        }
    }

    // "CrossEntropyWeight=5" -> "_CrossEntropyWeight-5": settings other than the defaults get their own cache files.
    private static string CacheSuffix(string settings) =>
        settings.Length == 0 ? "" : "_" + string.Concat(settings.Select(ch => char.IsLetterOrDigit(ch) || ch == '.' ? ch : '-'));
}
