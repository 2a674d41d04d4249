using SkiaSharp;

namespace Dsg.Core.Data;

/// <summary>
/// Reads a folder of images with SkiaSharp. With subfolders it is an ImageFolder (one subfolder per class, classes in
/// ordinal name order, labels = class index); without, the images in the folder itself are read unlabelled.
/// Each image is resized to the target size (bilinear), converted to grayscale (Rec. 601 luma) or RGB, and
/// normalised by the declared preprocessing.
/// </summary>
public static class ImageFolderReader
{
    private static readonly HashSet<string> s_extensions = new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };

    /// <summary>The class names of an ImageFolder (its subfolders, ordinal order); empty for a flat folder.</summary>
    public static IReadOnlyList<string> Classes(string folder) =>
        Directory.GetDirectories(folder).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();

    /// <summary>Reads the images as N×C×H×W with labels when the folder has class subfolders.</summary>
    /// <exception cref="DsgException">DSG0704 for a folder without images; DSG0711 for an image that cannot be decoded.</exception>
    public static CalibrationSet Read(string folder, int channels, int height, int width, ImagePreprocessing preprocessing, int? maxSamples = null)
    {
        if (channels is not (1 or 3))
        {
            throw new DsgException(ErrorCodes.CalibrationDataShapeMismatch,
                $"The model takes {channels} channels; a folder of images can feed 1 (grayscale) or 3 (RGB).",
                "Convert the images to a .npy array of the model's input shape instead.");
        }

        preprocessing.Validate(channels);
        var classes = Classes(folder);
        var files = new List<(string Path, long Label)>();
        if (classes.Count > 0)
        {
            for (int c = 0; c < classes.Count; c++)
            {
                files.AddRange(ImagesIn(Path.Combine(folder, classes[c])).Select(f => (f, (long)c)));
            }
        }
        else
        {
            files.AddRange(ImagesIn(folder).Select(f => (f, -1L)));
        }

        if (maxSamples is { } max && files.Count > max)
        {
            files = files.Take(max).ToList();
        }

        if (files.Count == 0)
        {
            throw new DsgException(ErrorCodes.CalibrationDataEmpty,
                $"'{folder}' holds no images ({string.Join(", ", s_extensions)}), neither directly nor in class subfolders.",
                "Point --calibration-data at a folder of images, laid out as FOLDER/CLASS/IMAGE.png for labels.") { FilePath = folder };
        }

        int size = channels * height * width;
        var values = new float[files.Count * size];
        for (int n = 0; n < files.Count; n++)
        {
            Decode(files[n].Path, channels, height, width, preprocessing, values.AsSpan(n * size, size));
        }

        return new CalibrationSet(values, [files.Count, channels, height, width], classes.Count > 0 ? files.Select(f => f.Label).ToArray() : null);
    }

    private static IEnumerable<string> ImagesIn(string folder) =>
        Directory.GetFiles(folder).Where(f => s_extensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal);

    private static void Decode(string path, int channels, int height, int width, ImagePreprocessing p, Span<float> target)
    {
        using var decoded = SKBitmap.Decode(path);
        if (decoded is null)
        {
            throw new DsgException(ErrorCodes.ImageUnreadable, $"'{path}' cannot be decoded as an image.",
                "Remove or replace the file; PNG, JPEG, BMP, GIF and WebP are supported.") { FilePath = path };
        }

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var resized = decoded.Width == width && decoded.Height == height && decoded.ColorType == SKColorType.Rgba8888
            ? decoded.Copy()
            : decoded.Resize(info, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None));
        using var rgba = resized.ColorType == SKColorType.Rgba8888 ? resized.Copy() : resized.Copy(SKColorType.Rgba8888);
        var pixels = rgba.GetPixelSpan();
        int plane = height * width;
        for (int i = 0; i < plane; i++)
        {
            byte r = pixels[4 * i], g = pixels[4 * i + 1], b = pixels[4 * i + 2];
            if (channels == 1)
            {
                float luma = 0.299f * r + 0.587f * g + 0.114f * b;
                target[i] = (luma * p.Scale - p.MeanOf(0)) / p.StdOf(0);
            }
            else
            {
                target[i] = (r * p.Scale - p.MeanOf(0)) / p.StdOf(0);
                target[plane + i] = (g * p.Scale - p.MeanOf(1)) / p.StdOf(1);
                target[2 * plane + i] = (b * p.Scale - p.MeanOf(2)) / p.StdOf(2);
            }
        }
    }
}
