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
/// <remarks>
/// The smoothing is the Gaussian's two 1-D passes as weighted sums of shifted views, not a convolution: on an AMD EPYC
/// family 26 CPU oneDNN's 3×3 convolution over one channel (the Fashion-MNIST models' input) gave a different image on
/// every run with two threads (docs/generation.md); the shifted sums are elementwise and give the same images on every
/// run and thread count, and a DSG step at 224×224 is no slower with them (docs/performance.md).
/// </remarks>
internal sealed class ImagePipeline
{
    // The normalised 1-D Gaussian's weights (the 3×3 kernel is their outer product); null when smoothing is off.
    private readonly (double Side, double Centre)? _taps;

    private ImagePipeline(int canvasPixels, double sigma)
    {
        CanvasPixels = canvasPixels;
        _taps = sigma > 0 ? Taps(sigma) : null;
    }

    /// <summary>Pixels added on every side of the optimised images (0: none).</summary>
    public int CanvasPixels { get; }

    /// <summary>Whether any stage is on.</summary>
    public bool Active => CanvasPixels > 0 || _taps is not null;

    /// <summary>The pipeline the options ask for: DSG only, like jitter and flips.</summary>
    public static ImagePipeline For(GenerationOptions options)
    {
        bool dsg = options.Method == GenerationMethod.Dsg;
        return new ImagePipeline(dsg ? options.CanvasPixels : 0, dsg ? options.SmoothingSigma : 0);
    }

    /// <summary>
    /// The normalised 3×3 Gaussian of standard deviation <paramref name="sigma"/> pixels, row by row: the outer product
    /// of the 1-D taps <see cref="Smooth"/> applies along each axis.
    /// </summary>
    public static float[] GaussianKernel(double sigma)
    {
        var (side, centre) = Taps(sigma);
        double[] taps = [side, centre, side];
        return [.. taps.SelectMany(y => taps.Select(x => (float)(y * x)))];
    }

    // The normalised 1-D Gaussian over three pixels: the weight of each neighbour and of the centre.
    private static (double Side, double Centre) Taps(double sigma)
    {
        double side = Math.Exp(-1 / (2 * sigma * sigma));
        return (side / (1 + (2 * side)), 1 / (1 + (2 * side)));
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

    /// <summary>
    /// The images smoothed channel by channel with the 3×3 Gaussian (zero padding, which is the mean pixel in the
    /// normalised space), or themselves: across the width, then down the height (differentiable).
    /// </summary>
    public Tensor Smooth(Tensor images)
    {
        if (_taps is not { } taps)
        {
            return images;
        }

        using var scope = NewDisposeScope();
        var padded = nn.functional.pad(images, [1, 1, 1, 1]);
        var across = ThreeTaps(padded, 3, images.shape[3], taps);
        return ThreeTaps(across, 2, images.shape[2], taps).MoveToOuterDisposeScope();
    }

    // side·(x[i−1] + x[i+1]) + centre·x[i] along dimension dim of a tensor padded by one there.
    private static Tensor ThreeTaps(Tensor padded, int dim, long length, (double Side, double Centre) taps) =>
        padded.narrow(dim, 0, length).Plus(padded.narrow(dim, 2, length)).Times(taps.Side)
            .Plus(padded.narrow(dim, 1, length).Times(taps.Centre));

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
}
