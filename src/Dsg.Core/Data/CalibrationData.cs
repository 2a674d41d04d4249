namespace Dsg.Core.Data;

/// <summary>
/// Loads real samples for calibration or evaluation from a path:
/// <list type="bullet">
/// <item>a <c>.npy</c> float32 array N×C×H×W already in the model's input space;</item>
/// <item>an IDX unsigned-byte images file (N×H×W, plain or .gz, Fashion-MNIST style) with a declared preprocessing;</item>
/// <item>a folder of images (ImageFolder layout FOLDER/CLASS/IMAGE gives labels) with a declared preprocessing.</item>
/// </list>
/// </summary>
public static class CalibrationData
{
    /// <summary>Reads the samples at <paramref name="path"/> and checks them against <see cref="CalibrationDataOptions.SampleShape"/>.</summary>
    /// <exception cref="DsgException">
    /// DSG0701 unreadable file; DSG0702 wrong shape; DSG0704 no samples; DSG0710 images without preprocessing; DSG0711 bad image.
    /// </exception>
    public static CalibrationSet Load(string path, CalibrationDataOptions? options = null)
    {
        options ??= new CalibrationDataOptions();
        var full = Path.GetFullPath(path);
        CalibrationSet set;
        if (Directory.Exists(full))
        {
            var (c, h, w) = ImageTarget(full, options, "folder of images");
            set = ImageFolderReader.Read(full, c, h, w, options.Preprocessing!, options.MaxSamples);
        }
        else if (!File.Exists(full))
        {
            throw new DsgException(ErrorCodes.CalibrationDataUnreadable, $"Calibration data '{path}' was not found.",
                "Pass a .npy array, an IDX images file or a folder of images.") { FilePath = full };
        }
        else if (full.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            set = LoadNpy(full, options);
        }
        else if (IdxFile.LooksLikeIdx(full))
        {
            set = LoadIdx(full, options);
        }
        else
        {
            throw new DsgException(ErrorCodes.CalibrationDataUnreadable,
                $"'{path}' is neither a .npy array, an IDX file nor a folder of images.",
                "Save the samples with numpy.save as float32 N x C x H x W, or pass an IDX images file or a folder of images.") { FilePath = full };
        }

        if (set.Count == 0)
        {
            throw new DsgException(ErrorCodes.CalibrationDataEmpty, $"'{path}' holds no samples.",
                "Pass data with at least one sample (256 is typical for calibration).") { FilePath = full };
        }

        CheckShape(set, options, full);
        return set;
    }

    /// <summary>Reads class labels: an IDX labels file or a .npy of integers.</summary>
    /// <exception cref="DsgException">DSG0703 when the file cannot be read as labels.</exception>
    public static long[] LoadLabels(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new DsgException(ErrorCodes.LabelsUnreadable, $"Labels file '{path}' was not found.",
                "Pass an IDX labels file or a .npy of int64 class indices.") { FilePath = full };
        }

        if (full.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var (data, shape) = NpyFile.ReadInt64(full);
                if (shape.Length != 1)
                {
                    throw new DsgException(ErrorCodes.LabelsUnreadable, $"'{path}' has shape ({string.Join(", ", shape)}); labels are one-dimensional.",
                        "Save the labels as a 1-D array: numpy.save(path, labels.astype(numpy.int64)).") { FilePath = full };
                }

                return data;
            }
            catch (DsgException e) when (e.Code == ErrorCodes.CalibrationDataUnreadable)
            {
                throw new DsgException(ErrorCodes.LabelsUnreadable, e.Message, "Save the labels as int64: numpy.save(path, labels.astype(numpy.int64)).", e) { FilePath = full };
            }
        }

        return IdxFile.ReadLabels(full);
    }

    /// <summary>The same samples with labels attached.</summary>
    /// <exception cref="DsgException">DSG0703 when the counts differ.</exception>
    public static CalibrationSet WithLabels(CalibrationSet set, long[] labels, string labelsPath)
    {
        if (labels.Length != set.Count)
        {
            throw new DsgException(ErrorCodes.LabelsUnreadable,
                $"'{labelsPath}' holds {labels.Length} labels and the data holds {set.Count} samples.",
                "Pass the labels file that belongs to the data (same count, same order).") { FilePath = labelsPath };
        }

        return new CalibrationSet(set.ToArray(), set.Shape, labels);
    }

    private static CalibrationSet LoadNpy(string path, CalibrationDataOptions options)
    {
        var (data, shape) = NpyFile.ReadFloat32(path);
        if (shape.Length != 4)
        {
            string hint = shape.Length == 3
                ? "Add the channel axis: numpy.save(path, x[:, None].astype(numpy.float32))."
                : "Save the samples as float32 N x C x H x W in the model's input space.";
            throw new DsgException(ErrorCodes.CalibrationDataShapeMismatch,
                $"'{path}' has shape ({string.Join(", ", shape)}); calibration samples must be 4-D N x C x H x W{Expected(options)}.", hint) { FilePath = path };
        }

        if (options.MaxSamples is { } max && shape[0] > max)
        {
            long size = shape[1] * shape[2] * shape[3];
            return new CalibrationSet(data[..(int)(max * size)], [max, shape[1], shape[2], shape[3]]);
        }

        return new CalibrationSet(data, shape);
    }

    private static CalibrationSet LoadIdx(string path, CalibrationDataOptions options)
    {
        var (dims, bytes) = IdxFile.ReadUBytes(path);
        if (dims.Length == 1)
        {
            throw new DsgException(ErrorCodes.CalibrationDataShapeMismatch,
                $"'{path}' is an IDX labels file ({dims[0]} values), not images.",
                "Pass the images file (…-images-idx3-ubyte) as data and the labels file as labels.") { FilePath = path };
        }

        if (dims.Length != 3)
        {
            throw new DsgException(ErrorCodes.CalibrationDataShapeMismatch,
                $"'{path}' holds an IDX array of shape ({string.Join(", ", dims)}); images must be N x H x W.",
                "Pass an IDX images file such as t10k-images-idx3-ubyte.gz.") { FilePath = path };
        }

        if (options.Preprocessing is null)
        {
            throw PreprocessingMissing(path, "IDX images file");
        }

        var p = options.Preprocessing.Validate(1);
        int n = options.MaxSamples is { } max ? Math.Min(max, dims[0]) : dims[0];
        int plane = dims[1] * dims[2];
        var values = new float[n * plane];
        float mean = p.MeanOf(0), std = p.StdOf(0);
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (bytes[i] * p.Scale - mean) / std;
        }

        return new CalibrationSet(values, [n, 1, dims[1], dims[2]]);
    }

    private static (int C, int H, int W) ImageTarget(string path, CalibrationDataOptions options, string what)
    {
        if (options.Preprocessing is null)
        {
            throw PreprocessingMissing(path, what);
        }

        var shape = options.SampleShape;
        int c = shape is { Count: 3 } ? (int)shape[0] : 3;
        int? h = options.Preprocessing.Height ?? (shape is { Count: 3 } && shape[1] > 0 ? (int)shape[1] : null);
        int? w = options.Preprocessing.Width ?? (shape is { Count: 3 } && shape[2] > 0 ? (int)shape[2] : null);
        if (h is null || w is null)
        {
            throw new DsgException(ErrorCodes.PreprocessingRequired,
                $"The image size for '{path}' is unknown: the model's input has no fixed height and width.",
                "Declare the size, for example --image-size 224x224.") { FilePath = path };
        }

        return (c, h.Value, w.Value);
    }

    private static DsgException PreprocessingMissing(string path, string what) =>
        new(ErrorCodes.PreprocessingRequired,
            $"'{path}' is a {what}; raw images need a declared preprocessing (scale, mean, std) to reach the model's input space.",
            "Declare it, for example --mean 0.2860 --std 0.3530 for Fashion-MNIST (pixels are scaled by 1/255 first), or pass a .npy already in the model's input space.")
        { FilePath = path };

    private static void CheckShape(CalibrationSet set, CalibrationDataOptions options, string path)
    {
        if (options.SampleShape is not { } expected)
        {
            return;
        }

        var actual = set.SampleShape;
        bool ok = actual.Length == expected.Count && actual.Zip(expected).All(p => p.Second <= 0 || p.First == p.Second);
        if (!ok)
        {
            throw new DsgException(ErrorCodes.CalibrationDataShapeMismatch,
                $"'{path}' has samples of shape ({string.Join(", ", actual)}) (C, H, W); the model's input needs ({string.Join(", ", expected.Select(d => d <= 0 ? "any" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}).",
                "Pass samples with the model's channel count and image size (N x C x H x W, in the model's input space).") { FilePath = path };
        }
    }

    private static string Expected(CalibrationDataOptions options) =>
        options.SampleShape is { } s ? $" (this model: N x {string.Join(" x ", s)})" : "";
}
