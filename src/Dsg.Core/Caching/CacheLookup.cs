namespace Dsg.Core.Caching;

/// <summary>
/// The outcome of <see cref="ArtifactCache.GetOrCreateAsync"/>: a verified entry, whether it was already there,
/// and the key's lock, held until this is disposed so that pruning cannot delete the files while they are copied.
/// </summary>
public sealed class CacheLookup : IDisposable
{
    private readonly IDisposable _lock;

    internal CacheLookup(CacheEntry entry, bool hit, IDisposable keyLock)
    {
        Entry = entry;
        Hit = hit;
        _lock = keyLock;
    }

    /// <summary>The entry.</summary>
    public CacheEntry Entry { get; }

    /// <summary>True when the entry existed and verified; false when it was produced by this call.</summary>
    public bool Hit { get; }

    /// <summary>Releases the key's lock.</summary>
    public void Dispose() => _lock.Dispose();
}
