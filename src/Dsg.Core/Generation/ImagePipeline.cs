using static TorchSharp.torch;

namespace Dsg.Core.Generation;

/// <summary>
/// The optional image pipeline of a DSG forward pass, after Sony MCT's data generation: the images live on a canvas
/// <see cref="GenerationOptions.CanvasPixels"/> larger on every side and each pass sees a random crop of the model's
/// size (the samples are the centre crops), and a 3×3 Gaussian smoothing (<see cref="GenerationOptions.SmoothingSigma"/>)
/// is applied before the crop, both in each pass and to the samples written, so the samples are what the model was
/// aligned on. Smoothing is on by default, the canvas off (docs/generation.md, "The image pipeline"). With neither,
/// every method returns its input unchanged and draws no random numbers.
/// </summary>
internal sealed class ImagePipeline : IDisposable
{
    private readonly Tensor? _kernel;

    private ImagePipeline(int canvasPixels, Tensor? kernel)
    {
        CanvasPixels = canvasPixels;
        _kernel = kernel;
    }

    /// <summary>Pixels added on every side of the optimised images (0: none).</summary>
    public int CanvasPixels { get; }

    /// <summary>Whether any stage is on.</summary>
    public bool Active => CanvasPixels > 0 || _kernel is not null;

    /// <summary>The pipeline the options ask for on a model with <paramref name="channels"/> input channels: DSG only, like jitter and flips.</summary>
    public static ImagePipeline For(GenerationOptions options, long channels, Device device)
    {
        bool dsg = options.Method == GenerationMethod.Dsg;
        var kernel = dsg && options.SmoothingSigma > 0 ? DepthwiseKernel(options.SmoothingSigma, channels, device) : null;
        return new ImagePipeline(dsg ? options.CanvasPixels : 0, kernel);
    }

    /// <summary>The normalised 3×3 Gaussian of standard deviation <paramref name="sigma"/> pixels, row by row.</summary>
    public static float[] GaussianKernel(double sigma)
    {
        var weights = new double[9];
        for (int y = -1; y <= 1; y++)
        {
            for (int x = -1; x <= 1; x++)
            {
                weights[((y + 1) * 3) + x + 1] = Math.Exp(-((x * x) + (y * y)) / (2 * sigma * sigma));
            }
        }

        double sum = weights.Sum();
        return weights.Select(w => (float)(w / sum)).ToArray();
    }

    /// <summary>The shape of the optimised images: the model's, <see cref="CanvasPixels"/> larger on every side.</summary>
    public long[] CanvasShape(long count, long[] inputShape) =>
        [count, inputShape[0], inputShape[1] + (2 * CanvasPixels), inputShape[2] + (2 * CanvasPixels)];

    /// <summary>What one forward pass sees: the smoothed canvas, cropped at a random offset to the model's size (differentiable).</summary>
    public Tensor ForPass(Tensor canvas, Generator generator)
    {
        var smoothed = Smooth(canvas);
        if (CanvasPixels == 0)
        {
            return smoothed;
        }

        using var drawn = randint(0, (2 * CanvasPixels) + 1, [2], generator: generator, device: generator.device).cpu();
        var offsets = drawn.data<long>().ToArray();
        return Crop(smoothed, offsets[0], offsets[1]);
    }

    /// <summary>What the samples are: the smoothed canvas's centre crop.</summary>
    public Tensor Final(Tensor canvas) => Crop(Smooth(canvas), CanvasPixels, CanvasPixels);

    /// <summary>The images smoothed channel by channel with the Gaussian (zero padding, which is the mean pixel in the normalised space), or themselves.</summary>
    public Tensor Smooth(Tensor images) =>
        _kernel is null ? images : nn.functional.conv2d(images, _kernel, padding: [1, 1], groups: images.shape[1]);

    private Tensor Crop(Tensor images, long top, long left)
    {
        if (CanvasPixels == 0)
        {
            return images;
        }

        long height = images.shape[2] - (2 * CanvasPixels);
        long width = images.shape[3] - (2 * CanvasPixels);
        return images.narrow(2, top, height).narrow(3, left, width);
    }

    private static Tensor DepthwiseKernel(double sigma, long channels, Device device)
    {
        using var scope = NewDisposeScope();
        var one = tensor(GaussianKernel(sigma), [1, 1, 3, 3], device: device);
        return one.repeat(channels, 1, 1, 1).contiguous().DetachFromDisposeScope();
    }

    public void Dispose() => _kernel?.Dispose();
}
