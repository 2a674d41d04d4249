using SkiaSharp;

namespace Dsg.Core.Generation;

/// <summary>
/// A grid of samples for a quick look. Each channel is rescaled to 0–255 by its own 0.5th–99.5th percentile over the
/// samples shown; three-channel samples are drawn in colour, others as grey images of their first channel.
/// </summary>
internal static class PreviewImage
{
    private const int Gap = 2;
    private const byte Background = 48;

    /// <summary>Renders up to <paramref name="maxTiles"/> samples as an RGBA8888 grid; small images are scaled up.</summary>
    public static (byte[] Rgba, int Width, int Height) Render(ReadOnlySpan<float> samples, IReadOnlyList<long> shape, int maxTiles = 256)
    {
        int n = (int)Math.Min(shape[0], maxTiles), c = (int)shape[1], h = (int)shape[2], w = (int)shape[3];
        int scale = Math.Max(1, 64 / Math.Max(h, w));
        int columns = (int)Math.Ceiling(Math.Sqrt(n));
        int rows = (n + columns - 1) / columns;
        int tileW = (w * scale) + Gap, tileH = (h * scale) + Gap;
        int width = (columns * tileW) + Gap, height = (rows * tileH) + Gap;
        var rgba = new byte[width * height * 4];
        for (int i = 0; i < rgba.Length; i += 4)
        {
            rgba[i] = rgba[i + 1] = rgba[i + 2] = Background;
            rgba[i + 3] = 255;
        }

        int shown = c == 3 ? 3 : 1;
        var ranges = new (float Low, float High)[shown];
        for (int ch = 0; ch < shown; ch++)
        {
            ranges[ch] = Range(samples, n, c, h * w, ch);
        }

        for (int s = 0; s < n; s++)
        {
            int originX = Gap + ((s % columns) * tileW), originY = Gap + ((s / columns) * tileH);
            for (int y = 0; y < h * scale; y++)
            {
                for (int x = 0; x < w * scale; x++)
                {
                    int pixel = ((originY + y) * width) + originX + x;
                    for (int k = 0; k < 3; k++)
                    {
                        int ch = shown == 3 ? k : 0;
                        float v = samples[(((s * c) + ch) * h * w) + ((y / scale) * w) + (x / scale)];
                        var (low, high) = ranges[ch];
                        float t = high > low ? (v - low) / (high - low) : 0.5f;
                        rgba[(pixel * 4) + k] = (byte)Math.Clamp(MathF.Round(t * 255f), 0, 255);
                    }
                }
            }
        }

        return (rgba, width, height);
    }

    /// <summary>Encodes the rendered grid as PNG.</summary>
    public static byte[] EncodePng(ReadOnlySpan<float> samples, IReadOnlyList<long> shape)
    {
        var (rgba, width, height) = Render(samples, shape);
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static (float Low, float High) Range(ReadOnlySpan<float> samples, int n, int c, int plane, int channel)
    {
        var values = new float[n * plane];
        for (int s = 0; s < n; s++)
        {
            samples.Slice(((s * c) + channel) * plane, plane).CopyTo(values.AsSpan(s * plane));
        }

        Array.Sort(values);
        float low = values[(int)((values.Length - 1) * 0.005)];
        float high = values[(int)((values.Length - 1) * 0.995)];
        return (low, high);
    }
}
