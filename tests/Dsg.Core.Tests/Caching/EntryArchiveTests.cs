using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Dsg.Core.Caching;

namespace Dsg.Core.Tests.Caching;

/// <summary>The remote cache's archive of one entry: a round trip, and every way a download can be wrong refused before use.</summary>
public sealed class EntryArchiveTests : IDisposable
{
    private static readonly string s_key = new('c', 64);
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>A real entry (made by the cache) and its archive.</summary>
    private async Task<(CacheEntry Entry, byte[] Archive)> EntryAsync()
    {
        var cache = new ArtifactCache(Path.Combine(_folder.Path, "cache"));
        using var lookup = await cache.GetOrCreateAsync(s_key, async (dir, ct) =>
        {
            await File.WriteAllBytesAsync(Path.Combine(dir, "model.onnx"), RandomNumberGenerator.GetBytes(200_000), ct);
            Directory.CreateDirectory(Path.Combine(dir, "sub"));
            await File.WriteAllTextAsync(Path.Combine(dir, "sub", "model.report.json"), "{\"agreement\":0.99}", ct);
            return new Dictionary<string, string> { ["agreement"] = "0.99" };
        });
        using var archive = new MemoryStream();
        EntryArchive.Write(lookup.Entry.Directory, lookup.Entry.Manifest, archive);
        return (lookup.Entry, archive.ToArray());
    }

    private string Extracted() => Directory.CreateTempSubdirectory("dsg-extract-").FullName;

    private string Extract(byte[] archive, string? key = null, long maxBytes = 1 << 30)
    {
        var target = Extracted();
        EntryArchive.Extract(new MemoryStream(archive), key ?? s_key, target, maxBytes);
        return target;
    }

    [Fact]
    public async Task ARoundTripGivesTheSameFilesAndManifest()
    {
        var (entry, archive) = await EntryAsync();

        var target = Extracted();
        var manifest = EntryArchive.Extract(new MemoryStream(archive), s_key, target, 1 << 30);

        Assert.Equal(entry.Manifest.Files, manifest.Files);
        Assert.Equal(File.ReadAllBytes(entry.PathOf("model.onnx")), File.ReadAllBytes(Path.Combine(target, "model.onnx")));
        Assert.Equal(File.ReadAllText(entry.PathOf("sub/model.report.json")), File.ReadAllText(Path.Combine(target, "sub", "model.report.json")));
        Assert.Equal(File.ReadAllText(Path.Combine(entry.Directory, CacheManifest.FileName)), File.ReadAllText(Path.Combine(target, CacheManifest.FileName)));
        Directory.Delete(target, recursive: true);
    }

    [Theory]
    [InlineData(0.01)]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public async Task ATruncatedArchiveIsRefused(double keep)
    {
        var (_, archive) = await EntryAsync();

        Assert.Throws<InvalidDataException>(() => Extract(archive[..(int)(archive.Length * keep)]));
    }

    [Fact]
    public async Task AnAlteredFileIsRefusedByItsHash()
    {
        var (entry, _) = await EntryAsync();
        var model = entry.PathOf("model.onnx");
        var bytes = File.ReadAllBytes(model);
        bytes[1000] ^= 1;
        File.WriteAllBytes(model, bytes); // the manifest still has the old hash

        using var archive = new MemoryStream();
        EntryArchive.Write(entry.Directory, entry.Manifest, archive);

        var error = Assert.Throws<InvalidDataException>(() => Extract(archive.ToArray()));
        Assert.Contains("model.onnx does not match its SHA-256", error.Message);
    }

    [Fact]
    public async Task AnArchiveOfAnotherKeyIsRefused()
    {
        var (_, archive) = await EntryAsync();

        var error = Assert.Throws<InvalidDataException>(() => Extract(archive, key: new string('d', 64)));
        Assert.Contains("names key", error.Message);
    }

    [Fact]
    public async Task AManifestDeclaringMoreThanTheLimitIsRefusedBeforeAnythingIsWritten()
    {
        var (_, archive) = await EntryAsync();

        var error = Assert.Throws<InvalidDataException>(() => Extract(archive, maxBytes: 1000));
        Assert.Contains("size limit", error.Message);
    }

    [Theory]
    [InlineData("../outside.onnx")]
    [InlineData("/etc/passwd")]
    [InlineData("sub/../../x")]
    [InlineData("a\\b")]
    [InlineData("last-used")]
    public void AManifestNamingAPathOutsideTheEntryIsRefused(string name)
    {
        var content = Encoding.UTF8.GetBytes("payload");
        var archive = Handmade(name, content, [(name, content)]);

        var error = Assert.Throws<InvalidDataException>(() => Extract(archive));
        Assert.Contains("not a plain relative path", error.Message);
        Assert.False(File.Exists(Path.Combine(_folder.Path, "outside.onnx")));
    }

    [Fact]
    public void AMemberTheManifestDoesNotListIsRefused()
    {
        var content = Encoding.UTF8.GetBytes("payload");
        var archive = Handmade("model.onnx", content, [("model.onnx", content), ("extra.bin", content)]);

        Assert.Contains("extra.bin", Assert.Throws<InvalidDataException>(() => Extract(archive)).Message);
    }

    [Fact]
    public void AMissingMemberIsRefused()
    {
        var content = Encoding.UTF8.GetBytes("payload");
        var archive = Handmade("model.onnx", content, []);

        Assert.Contains("missing", Assert.Throws<InvalidDataException>(() => Extract(archive)).Message);
    }

    [Fact]
    public void SomethingThatIsNotAnArchiveIsRefused()
    {
        Assert.Throws<InvalidDataException>(() => Extract(Encoding.ASCII.GetBytes("<html><body>502 Bad Gateway</body></html>")));
        Assert.Throws<InvalidDataException>(() => Extract([]));
    }

    /// <summary>An archive whose manifest lists one file <paramref name="listed"/> with <paramref name="listedContent"/>'s size and hash, holding <paramref name="members"/>.</summary>
    private static byte[] Handmade(string listed, byte[] listedContent, (string Name, byte[] Content)[] members)
    {
        var manifest = new CacheManifest(s_key, "0", CacheKey.AlgorithmVersion, DateTimeOffset.UtcNow,
            [new CacheFile(listed, listedContent.Length, Convert.ToHexStringLower(SHA256.HashData(listedContent)))], new Dictionary<string, string>());
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, content) in members.Prepend((CacheManifest.FileName, Encoding.UTF8.GetBytes(manifest.ToJson()))))
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
            }
        }

        return buffer.ToArray();
    }
}
