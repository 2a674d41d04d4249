using System.Globalization;
using Dsg.Core.Data;
using Dsg.Core.Graph;
using Dsg.Core.Onnx;

namespace Dsg.Core.Pipeline;

/// <summary>
/// Real samples from a file or folder (<see cref="CalibrationData.Load"/>). The samples are shuffled with the seed;
/// the first ones calibrate and the next ones are held out. With too few for both, a fifth is held out.
/// </summary>
public sealed class FileCalibrationSource : ICalibrationSource
{
    /// <summary>Reads from <paramref name="path"/> with the given preprocessing (required for IDX and image folders).</summary>
    public FileCalibrationSource(string path, ImagePreprocessing? preprocessing = null)
    {
        Path = path;
        Preprocessing = preprocessing;
    }

    /// <summary>The data's path.</summary>
    public string Path { get; }

    /// <summary>The declared preprocessing.</summary>
    public ImagePreprocessing? Preprocessing { get; }

    /// <inheritdoc />
    public bool Optimises => false;

    /// <inheritdoc />
    public bool RunsExecutor => false;

    /// <inheritdoc />
    public bool NeedsBatchNorm => false;

    /// <inheritdoc />
    public string Name => "file";

    /// <inheritdoc />
    public CalibrationSamples Produce(OnnxModel model, long[] sampleShape, DetectedOutput output, int samples, int heldOut, int iterations, int seed,
        IProgress<PipelineEvent>? progress, CancellationToken ct)
    {
        var data = CalibrationData.Load(Path, new CalibrationDataOptions { SampleShape = sampleShape, Preprocessing = Preprocessing });
        if (data.Count < 2)
        {
            throw new DsgException(ErrorCodes.CalibrationDataEmpty,
                $"'{Path}' holds {data.Count} sample(s); calibration and the held-out check need at least 2.",
                "Pass more samples (256 is typical).") { FilePath = System.IO.Path.GetFullPath(Path) };
        }

        var shuffled = data.Sample(data.Count, seed);
        int calibrate = Math.Min(samples, data.Count);
        int held = Math.Min(heldOut, data.Count - calibrate);
        if (held < 1)
        {
            held = Math.Max(1, data.Count / 5);
            calibrate = data.Count - held;
        }

        progress?.Report(new ProgressEvent(PipelinePhase.Generate, 1, 1, $"loaded {data.Count} samples from {Path}"));
        return new CalibrationSamples(shuffled.Slice(0, calibrate), shuffled.Slice(calibrate, held),
            string.Create(CultureInfo.InvariantCulture, $"file {Path}: {calibrate} calibration + {held} held-out samples (shuffled with seed {seed})"));
    }
}
