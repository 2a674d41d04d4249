using Dsg.Core.Data;
using Dsg.Tests.Shared;

namespace Dsg.Core.Tests.Data;

public sealed class NpyFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsg-npy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Float32_round_trips_with_shape_and_a_64_byte_aligned_header()
    {
        var path = Path.Combine(_dir, "a.npy");
        var data = Enumerable.Range(0, 24).Select(i => i * 0.5f - 3).ToArray();

        NpyFile.WriteFloat32(path, data, new long[] { 2, 3, 4 });
        var (read, shape) = NpyFile.ReadFloat32(path);

        Assert.Equal(data, read);
        Assert.Equal(new long[] { 2, 3, 4 }, shape);
        var bytes = File.ReadAllBytes(path);
        int headerEnd = 10 + BitConverter.ToUInt16(bytes, 8);
        Assert.Equal(0, headerEnd % 64);
        Assert.Equal((byte)'\n', bytes[headerEnd - 1]);
    }

    [Fact]
    public void Reads_arrays_written_by_numpy()
    {
        var (images, shape) = NpyFile.ReadFloat32(RepoPaths.Data("fmnist_test_64.npy"));
        var (labels, labelShape) = NpyFile.ReadInt64(RepoPaths.Data("fmnist_test_64_labels.npy"));

        Assert.Equal(new long[] { 64, 1, 28, 28 }, shape);
        Assert.Equal(64 * 28 * 28, images.Length);
        Assert.Equal(new long[] { 64 }, labelShape);
        Assert.All(labels, l => Assert.InRange(l, 0, 9));
        // Normalised Fashion-MNIST: background pixels are (0 - 0.2860) / 0.3530.
        Assert.Equal(-0.2860f / 0.3530f, images.Min(), 3);
    }

    [Fact]
    public void A_file_that_is_not_npy_is_DSG0701()
    {
        var path = Path.Combine(_dir, "b.npy");
        File.WriteAllText(path, "not numpy");

        var e = Assert.Throws<DsgException>(() => NpyFile.ReadFloat32(path));

        Assert.Equal(ErrorCodes.CalibrationDataUnreadable, e.Code);
    }

    [Fact]
    public void A_body_shorter_than_the_shape_is_DSG0701()
    {
        var path = Path.Combine(_dir, "c.npy");
        NpyFile.WriteFloat32(path, new float[8], new long[] { 8 });
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);

        var e = Assert.Throws<DsgException>(() => NpyFile.ReadFloat32(path));

        Assert.Contains("needs", e.Message);
    }
}
