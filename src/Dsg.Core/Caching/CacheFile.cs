namespace Dsg.Core.Caching;

/// <summary>A file of a cache entry: its path relative to the entry folder ('/' separated), size and SHA-256 (hex).</summary>
public sealed record CacheFile(string Name, long Size, string Sha256);
