namespace Dsg.Core.Caching;

/// <summary>Where the entry of a <see cref="CacheLookup"/> came from.</summary>
public enum CacheSource
{
    /// <summary>Produced by this run (a miss in both caches).</summary>
    Produced,

    /// <summary>Already in the local cache.</summary>
    Local,

    /// <summary>Downloaded from the remote cache, verified and stored locally.</summary>
    Remote,
}
