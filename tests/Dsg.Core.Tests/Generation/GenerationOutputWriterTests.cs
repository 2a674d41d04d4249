using System.Text.Json;
using Dsg.Core.Data;
using Dsg.Core.Generation;
using SkiaSharp;

namespace Dsg.Core.Tests.Generation;

public sealed class GenerationOutputWriterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "dsg-gen-writer-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void WritesSamplesPreviewAndReportThatReadBack()
    {
        using var model = new TinyBatchNormModel();
        var result = SampleGenerator.Generate(model, new GenerationOptions { Samples = 5, BatchSize = 3, Iterations = 3, Device = "cpu", CurveStride = 2 }, null, default);
        var paths = GenerationOutputWriter.Write(_dir, result);

        Assert.Equal(new[] { "generation.json", "preview.png", "samples.npy" }, Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName).Order());
        var (data, shape) = NpyFile.ReadFloat32(paths[0]);
        Assert.Equal(result.Shape, shape);
        Assert.Equal(result.Samples.ToArray(), data);

        // 5 samples -> a 3×2 grid of 14×14 images scaled ×4 with 2-pixel gaps.
        using var png = SKBitmap.Decode(paths[1]);
        Assert.Equal((3 * (56 + 2)) + 2, png.Width);
        Assert.Equal((2 * (56 + 2)) + 2, png.Height);

        using var json = JsonDocument.Parse(File.ReadAllText(paths[2]));
        var root = json.RootElement;
        Assert.Equal("dsg", root.GetProperty("method").GetString());
        Assert.Equal(5, root.GetProperty("options").GetProperty("samples").GetInt32());
        Assert.Equal(result.Seconds, root.GetProperty("seconds").GetDouble());
        Assert.Equal(result.Diversity!.PixelCosine, root.GetProperty("diversity").GetProperty("pixelCosine").GetDouble());
        var bn = root.GetProperty("curves").GetProperty("bn");
        Assert.Equal(result.Curve("bn")!.Points.Count, bn.GetArrayLength());
        Assert.Equal(result.Curve("bn")!.Points[0].Value, bn[0][2].GetDouble());
    }

    [Fact]
    public void PreviewRescalesEachChannelToTheFullRange()
    {
        // Two 1×2×2 samples with values 0..7: the darkest pixel maps to 0 and the brightest to 255.
        var samples = Enumerable.Range(0, 8).Select(i => (float)i).ToArray();
        var (rgba, width, _) = PreviewImage.Render(samples, [2, 1, 2, 2]);
        int scale = 32, gap = 2;
        Assert.Equal((2 * ((2 * scale) + gap)) + gap, width);
        byte First(int x, int y) => rgba[((y * width) + x) * 4];
        Assert.Equal(0, First(gap, gap));
        Assert.Equal(255, First(gap + (2 * scale) + gap + scale, gap + scale));
        Assert.Equal(48, First(0, 0)); // background between tiles
    }

    [Fact]
    public void AFailureLeavesNoFileBehind()
    {
        using var model = new TinyBatchNormModel();
        var result = SampleGenerator.Generate(model, new GenerationOptions { Samples = 2, BatchSize = 2, Iterations = 1, Device = "cpu" }, null, default);
        Directory.CreateDirectory(_dir);
        string blocked = Path.Combine(_dir, "out");
        File.WriteAllText(blocked, "a file where the folder should be");
        var e = Assert.Throws<DsgException>(() => GenerationOutputWriter.Write(blocked, result));
        Assert.Equal(ErrorCodes.GenerationOutputUnwritable, e.Code);
        Assert.Equal(new[] { "out" }, Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));

        // A folder whose report cannot be renamed into place (a directory occupies the name) keeps nothing new.
        string target = Path.Combine(_dir, "target");
        Directory.CreateDirectory(Path.Combine(target, GenerationOutputWriter.ReportFileName, "occupied"));
        Assert.Throws<DsgException>(() => GenerationOutputWriter.Write(target, result));
        Assert.Equal(new[] { GenerationOutputWriter.ReportFileName }, Directory.GetFileSystemEntries(target).Select(Path.GetFileName));
    }
}
