namespace Dsg.Core.Caching;

/// <summary>An entry as listed by <see cref="ArtifactCache.List"/>: where it is, what it holds and when it was last used.</summary>
public sealed record CacheEntry(string Key, string Directory, CacheManifest Manifest, DateTimeOffset LastUsedUtc)
{
    /// <summary>The total size of the entry's files in bytes.</summary>
    public long SizeBytes => Manifest.SizeBytes;

    /// <summary>The absolute path of one of the entry's files.</summary>
    public string PathOf(string name) => Path.Combine(Directory, name.Replace('/', Path.DirectorySeparatorChar));
}
