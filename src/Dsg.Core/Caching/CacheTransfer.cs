namespace Dsg.Core.Caching;

/// <summary>What <see cref="ArtifactCache.PushAsync"/> or <see cref="ArtifactCache.PullAsync"/> did with one key.</summary>
public enum CacheTransfer
{
    /// <summary>Copied: uploaded to the remote, or downloaded, verified and stored locally.</summary>
    Copied,

    /// <summary>Nothing to do: the destination already had the entry.</summary>
    AlreadyThere,

    /// <summary>The source does not have the entry.</summary>
    Missing,

    /// <summary>The source's entry does not match its hashes (a warning says how); nothing was copied.</summary>
    Corrupt,
}
