using Dsg.Core.Caching;

namespace Dsg.Core.Tests.Caching;

public sealed class CacheKeyTests
{
    private static readonly byte[] s_model = [1, 2, 3, 4];

    private static Dictionary<string, string?> Options(params (string Key, string? Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value);

    [Fact]
    public void KeyIsStableAndIndependentOfOptionOrder()
    {
        var a = CacheKey.Compute(s_model, Options(("samples", "64"), ("precision", "W8A8")), "0.1.0");
        var b = CacheKey.Compute(s_model, Options(("precision", "W8A8"), ("samples", "64")), "0.1.0");
        Assert.Equal(a, b);
        Assert.True(CacheKey.IsKey(a));
    }

    [Fact]
    public void EveryInputChangesTheKey()
    {
        var baseline = CacheKey.Compute(s_model, Options(("samples", "64")), "0.1.0");
        Assert.NotEqual(baseline, CacheKey.Compute([1, 2, 3, 5], Options(("samples", "64")), "0.1.0"));
        Assert.NotEqual(baseline, CacheKey.Compute(s_model, Options(("samples", "65")), "0.1.0"));
        Assert.NotEqual(baseline, CacheKey.Compute(s_model, Options(("samples", "64"), ("seed", null)), "0.1.0"));
        Assert.NotEqual(baseline, CacheKey.Compute(s_model, Options(("samples", "64")), "0.1.1"));
    }

    [Fact]
    public void AbsolutePathsAreRefused()
    {
        Assert.Throws<ArgumentException>(() => CacheKey.Compute(s_model, Options(("calibrationData", "/home/u/data.npy")), "0.1.0"));
    }

    [Fact]
    public void FileHashDependsOnContentNotPath()
    {
        using var folder = new TempFolder();
        var a = Path.Combine(folder.Path, "a.npy");
        var b = Path.Combine(folder.Path, "b.npy");
        File.WriteAllBytes(a, [9, 9]);
        File.WriteAllBytes(b, [9, 9]);
        Assert.Equal(CacheKey.HashFile(a), CacheKey.HashFile(b));
        File.WriteAllBytes(b, [9, 8]);
        Assert.NotEqual(CacheKey.HashFile(a), CacheKey.HashFile(b));
    }

    [Fact]
    public void CanonicalJsonSortsKeysOrdinally()
    {
        var json = System.Text.Encoding.UTF8.GetString(CacheKey.CanonicalJson(Options(("b", "2"), ("B", "1"), ("a", null))));
        Assert.Equal("{\"B\":\"1\",\"a\":null,\"b\":\"2\"}", json);
    }

    [Theory]
    [InlineData("2GB", 2L << 30)]
    [InlineData("500 MB", 500L << 20)]
    [InlineData("1.5GiB", 3L << 29)]
    [InlineData("1024", 1024)]
    [InlineData("0", 0)]
    public void ByteSizeParses(string text, long expected)
    {
        Assert.True(ByteSize.TryParse(text, out var bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("-1GB")]
    [InlineData("2 XB")]
    public void ByteSizeRejectsNonSizes(string text) => Assert.False(ByteSize.TryParse(text, out _));
}
