using Dsg.Core.Data;
using Dsg.Tests.Shared;
using SkiaSharp;

namespace Dsg.Core.Tests.Data;

public sealed class CalibrationDataTests : IDisposable
{
    private static readonly ImagePreprocessing s_fashion = new() { Mean = [0.2860f], Std = [0.3530f] };
    private readonly string _dir = Directory.CreateTempSubdirectory("dsg-data-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void NpyLoadsAndChecksTheModelShape()
    {
        var set = CalibrationData.Load(RepoPaths.Data("fmnist_test_64.npy"), new CalibrationDataOptions { SampleShape = [1, 28, 28] });
        Assert.Equal([64L, 1, 28, 28], set.Shape);
        var e = Assert.Throws<DsgException>(() => CalibrationData.Load(RepoPaths.Data("fmnist_test_64.npy"), new CalibrationDataOptions { SampleShape = [3, 32, 32] }));
        Assert.Equal(ErrorCodes.CalibrationDataShapeMismatch, e.Code);
        Assert.Contains("(1, 28, 28)", e.Message);
        Assert.Contains("(3, 32, 32)", e.Message);
        Assert.Equal(10, CalibrationData.Load(RepoPaths.Data("fmnist_test_64.npy"), new CalibrationDataOptions { MaxSamples = 10 }).Count);
    }

    [Fact]
    public void ThreeDimensionalNpyIsRejectedWithTheFix()
    {
        string path = Path.Combine(_dir, "x.npy");
        NpyFile.WriteFloat32(path, new float[2 * 28 * 28], [2, 28, 28]);
        var e = Assert.Throws<DsgException>(() => CalibrationData.Load(path, new CalibrationDataOptions { SampleShape = [1, 28, 28] }));
        Assert.Equal(ErrorCodes.CalibrationDataShapeMismatch, e.Code);
        Assert.Contains("(2, 28, 28)", e.Message);
        Assert.Contains("x[:, None]", e.Hint);
    }

    [Fact]
    public void MissingAndUnknownFilesAreUnreadable()
    {
        Assert.Equal(ErrorCodes.CalibrationDataUnreadable, Assert.Throws<DsgException>(() => CalibrationData.Load(Path.Combine(_dir, "none.npy"))).Code);
        string text = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(text, "hello");
        Assert.Equal(ErrorCodes.CalibrationDataUnreadable, Assert.Throws<DsgException>(() => CalibrationData.Load(text)).Code);
        string badNpy = Path.Combine(_dir, "bad.npy");
        File.WriteAllBytes(badNpy, [1, 2, 3]);
        Assert.Equal(ErrorCodes.CalibrationDataUnreadable, Assert.Throws<DsgException>(() => CalibrationData.Load(badNpy)).Code);
    }

    [Fact]
    public void IdxImagesWithDeclaredPreprocessingMatchThePreprocessedTestAsset()
    {
        string images = Path.Combine(RepoPaths.FashionMnist, "t10k-images-idx3-ubyte.gz");
        var set = CalibrationData.Load(images, new CalibrationDataOptions { Preprocessing = s_fashion, SampleShape = [1, 28, 28], MaxSamples = 64 });
        var (expected, shape) = NpyFile.ReadFloat32(RepoPaths.Data("fmnist_test_64.npy"));
        Assert.Equal(shape, set.Shape);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - set.ToArray()[i]) < 1e-5, $"value {i}: {set.ToArray()[i]} vs {expected[i]}");
        }

        var labels = CalibrationData.LoadLabels(Path.Combine(RepoPaths.FashionMnist, "t10k-labels-idx1-ubyte.gz"));
        Assert.Equal(10_000, labels.Length);
        Assert.Equal(NpyFile.ReadInt64(RepoPaths.Data("fmnist_test_64_labels.npy")).Data, labels[..64]);
        Assert.Equal(ErrorCodes.LabelsUnreadable, Assert.Throws<DsgException>(() => CalibrationData.WithLabels(set, labels, "l")).Code);
    }

    [Fact]
    public void IdxImagesWithoutPreprocessingOrOfTheWrongKindAreRejected()
    {
        string images = Path.Combine(RepoPaths.FashionMnist, "t10k-images-idx3-ubyte.gz");
        Assert.Equal(ErrorCodes.PreprocessingRequired, Assert.Throws<DsgException>(() => CalibrationData.Load(images)).Code);
        string labels = Path.Combine(RepoPaths.FashionMnist, "t10k-labels-idx1-ubyte.gz");
        var e = Assert.Throws<DsgException>(() => CalibrationData.Load(labels, new CalibrationDataOptions { Preprocessing = s_fashion }));
        Assert.Equal(ErrorCodes.CalibrationDataShapeMismatch, e.Code);
        Assert.Contains("labels", e.Message);
        Assert.Equal(ErrorCodes.LabelsUnreadable, Assert.Throws<DsgException>(() => CalibrationData.LoadLabels(images)).Code);

        string truncated = Path.Combine(_dir, "short-idx3-ubyte");
        File.WriteAllBytes(truncated, [0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3]);
        var t = Assert.Throws<DsgException>(() => CalibrationData.Load(truncated, new CalibrationDataOptions { Preprocessing = s_fashion }));
        Assert.Equal(ErrorCodes.CalibrationDataUnreadable, t.Code);
        Assert.Contains("3920", t.Message);
    }

    [Fact]
    public void ImageFolderGivesLabelsResizesAndNormalises()
    {
        WritePng(Path.Combine(_dir, "cat", "a.png"), 28, 28, 255);
        WritePng(Path.Combine(_dir, "cat", "b.png"), 56, 56, 0);
        WritePng(Path.Combine(_dir, "dog", "c.png"), 28, 28, 51);
        var p = new ImagePreprocessing { Mean = [0.5f], Std = [0.25f] };
        var set = CalibrationData.Load(_dir, new CalibrationDataOptions { Preprocessing = p, SampleShape = [1, 28, 28] });
        Assert.Equal([3L, 1, 28, 28], set.Shape);
        Assert.Equal([0L, 0, 1], set.Labels!);
        Assert.Equal((1f - 0.5f) / 0.25f, set.ToArray()[0], 4);            // white
        Assert.Equal((0f - 0.5f) / 0.25f, set.ToArray()[784 + 400], 4);    // black, resized from 56x56
        Assert.Equal((0.2f - 0.5f) / 0.25f, set.ToArray()[2 * 784 + 5], 3); // 51/255 = 0.2
        Assert.Equal(["cat", "dog"], ImageFolderReader.Classes(_dir));

        var rgb = CalibrationData.Load(_dir, new CalibrationDataOptions { Preprocessing = p with { Width = 8, Height = 4 }, SampleShape = [3, 4, 8] });
        Assert.Equal([3L, 3, 4, 8], rgb.Shape);
    }

    [Fact]
    public void ImageFolderErrorsAreTyped()
    {
        var options = new CalibrationDataOptions { Preprocessing = s_fashion, SampleShape = [1, 28, 28] };
        Assert.Equal(ErrorCodes.CalibrationDataEmpty, Assert.Throws<DsgException>(() => CalibrationData.Load(_dir, options)).Code);
        Assert.Equal(ErrorCodes.PreprocessingRequired, Assert.Throws<DsgException>(() => CalibrationData.Load(_dir)).Code);
        Directory.CreateDirectory(Path.Combine(_dir, "x"));
        File.WriteAllText(Path.Combine(_dir, "x", "broken.png"), "not a png");
        var e = Assert.Throws<DsgException>(() => CalibrationData.Load(_dir, options));
        Assert.Equal(ErrorCodes.ImageUnreadable, e.Code);
        Assert.EndsWith("broken.png", e.FilePath);
        Assert.Equal(ErrorCodes.BadOption, Assert.Throws<DsgException>(() => CalibrationData.Load(_dir, options with { Preprocessing = s_fashion with { Std = [0f] } })).Code);
    }

    [Fact]
    public void NpyLabelsLoadAndBadOnesAreTyped()
    {
        Assert.Equal(64, CalibrationData.LoadLabels(RepoPaths.Data("fmnist_test_64_labels.npy")).Length);
        Assert.Equal(ErrorCodes.LabelsUnreadable, Assert.Throws<DsgException>(() => CalibrationData.LoadLabels(RepoPaths.Data("fmnist_test_64.npy"))).Code);
        Assert.Equal(ErrorCodes.LabelsUnreadable, Assert.Throws<DsgException>(() => CalibrationData.LoadLabels(Path.Combine(_dir, "none.npy"))).Code);
    }

    [Fact]
    public void SampleDrawsASeededSubsetWithLabels()
    {
        var set = CalibrationData.Load(RepoPaths.Data("fmnist_test_64.npy"));
        set = CalibrationData.WithLabels(set, CalibrationData.LoadLabels(RepoPaths.Data("fmnist_test_64_labels.npy")), "labels");
        var a = set.Sample(16, 1);
        Assert.Equal(16, a.Count);
        Assert.Equal(a.ToArray(), set.Sample(16, 1).ToArray());
        Assert.NotEqual(a.ToArray(), set.Sample(16, 2).ToArray());
        int index = Enumerable.Range(0, 64).First(i => set.Values(i, 1).Span.SequenceEqual(a.Values(0, 1).Span));
        Assert.Equal(set.Labels![index], a.Labels![0]);
    }

    private static void WritePng(string path, int width, int height, byte gray)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        bitmap.Erase(new SKColor(gray, gray, gray));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }
}
