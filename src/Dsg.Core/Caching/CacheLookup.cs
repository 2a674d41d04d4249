namespace Dsg.Core.Caching;

/// <summary>
/// The outcome of <see cref="ArtifactCache.GetOrCreateAsync"/>: a verified entry, where it came from, and the key's
/// lock, held until this is disposed so that pruning cannot delete the files while they are copied.
/// </summary>
public sealed class CacheLookup : IDisposable
{
    private readonly IDisposable _lock;

    internal CacheLookup(CacheEntry entry, CacheSource source, IDisposable keyLock, bool uploaded = false)
    {
        Entry = entry;
        Source = source;
        Uploaded = uploaded;
        _lock = keyLock;
    }

    /// <summary>The entry.</summary>
    public CacheEntry Entry { get; }

    /// <summary>Where the entry came from.</summary>
    public CacheSource Source { get; }

    /// <summary>True when the entry existed (locally or on the remote) and verified; false when it was produced by this call.</summary>
    public bool Hit => Source != CacheSource.Produced;

    /// <summary>True when this call produced the entry and put it on the remote cache.</summary>
    public bool Uploaded { get; }

    /// <summary>Releases the key's lock.</summary>
    public void Dispose() => _lock.Dispose();
}
