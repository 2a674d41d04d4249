using Dsg.Core.Data;
using Dsg.Core.Generation;
using Dsg.Core.Onnx;
using Dsg.Core.Pipeline;

namespace Dsg.Results;

/// <summary>
/// Calibration samples per method; the same samples feed every recipe of one (model, method, seed) and every precision
/// whose activation width has the same generator defaults.
/// </summary>
internal sealed class SampleSources(CalibrationSet trainImages, int samples, int iterations, string generatorSettings, string cacheDir)
{
    public static readonly string[] AllMethods = ["real", "gaussian", "zeroq", "dsg"];

    public double GenerationSeconds { get; private set; }

    /// <summary>
    /// The samples of <paramref name="method"/> for calibrating activations of <paramref name="activationBits"/> bits:
    /// the generator starts from its defaults for that width (<see cref="GenerationOptions.ForActivationBits"/>, as the
    /// tool does), so widths with the same defaults share one set.
    /// </summary>
    public CalibrationSet Get(string method, string modelName, OnnxModel model, long[] sampleShape, int seed, int activationBits)
    {
        switch (method)
        {
            case "real":
                return trainImages.Sample(samples, seed);
            case "gaussian":
                return GaussianCalibrationSource.Noise(samples, sampleShape, seed);
            default:
                var defaults = GenerationOptions.ForActivationBits(activationBits);
                // Sets made from the 8-bit defaults are named by the width, so the files of the generator's own defaults keep their names.
                string width = defaults == GenerationOptions.Default ? "" : $"_a{activationBits}";
                string cached = Path.Combine(cacheDir, $"{modelName}_{method}_s{seed}_n{samples}_i{iterations}{width}{CacheSuffix(generatorSettings)}.npy");
                if (File.Exists(cached))
                {
                    var (data, shape) = NpyFile.ReadFloat32(cached);
                    return new CalibrationSet(data, shape);
                }

                var watch = System.Diagnostics.Stopwatch.StartNew();
                var set = Generated.Generate(method, model, samples, iterations, seed, defaults, generatorSettings);
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
