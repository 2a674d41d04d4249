using System.Globalization;
using Dsg.Core.Data;
using Dsg.Core.Graph;
using Dsg.Core.Onnx;

namespace Dsg.Core.Pipeline;

/// <summary>
/// N(0, 1) noise in the model's input space, seeded (Box–Muller over <see cref="Random"/>): the no-optimisation
/// baseline, and a source that needs no TorchSharp. Held-out samples use seed + 1.
/// </summary>
public sealed class GaussianCalibrationSource : ICalibrationSource
{
    /// <inheritdoc />
    public bool Optimises => false;

    /// <inheritdoc />
    public bool RunsExecutor => false;

    /// <inheritdoc />
    public bool NeedsBatchNorm => false;

    /// <inheritdoc />
    public string Name => "gaussian";

    /// <summary>
    /// n samples of N(0, 1) noise with the given sample shape, drawn a sample at a time into a
    /// <see cref="SampleBuffer"/> (so a large set goes to a scratch file, not to memory).
    /// </summary>
    public static CalibrationSet Noise(int n, long[] sampleShape, int seed)
    {
        long size = sampleShape.Aggregate(1L, (a, d) => a * d);
        var random = new Random(seed);
        var set = new CalibrationSet(SampleBuffer.Create(n * size), [n, .. sampleShape]);
        var values = new float[size];
        for (int s = 0; s < n; s++)
        {
            for (long i = 0; i < size; i++)
            {
                double u1 = 1 - random.NextDouble(), u2 = random.NextDouble();
                values[i] = (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }

            set.Write(s, values);
        }

        return set;
    }

    /// <inheritdoc />
    public CalibrationSamples Produce(OnnxModel model, long[] sampleShape, DetectedOutput output, int samples, int heldOut, int iterations, int seed,
        IProgress<PipelineEvent>? progress, CancellationToken ct)
    {
        var calibration = Noise(samples, sampleShape, seed);
        var held = Noise(heldOut, sampleShape, seed + 1);
        progress?.Report(new ProgressEvent(PipelinePhase.Generate, 1, 1, $"{samples} + {heldOut} N(0,1) samples"));
        return new CalibrationSamples(calibration, held,
            string.Create(CultureInfo.InvariantCulture, $"gaussian N(0,1): {samples} calibration samples (seed {seed}) + {heldOut} held-out (seed {seed + 1})"));
    }
}
