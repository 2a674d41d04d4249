namespace Dsg.Core.Data;

/// <summary>How <see cref="CalibrationData.Load"/> reads and checks a data source.</summary>
public sealed record CalibrationDataOptions
{
    /// <summary>The shape one sample must have (C, H, W), usually the model's input; null skips the check.</summary>
    public IReadOnlyList<long>? SampleShape { get; init; }

    /// <summary>The preprocessing of raw images; required for IDX files and folders of images, ignored for .npy.</summary>
    public ImagePreprocessing? Preprocessing { get; init; }

    /// <summary>Reads at most this many samples (the first ones, in file or sorted-folder order); null reads all.</summary>
    public int? MaxSamples { get; init; }
}
