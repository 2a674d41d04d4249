namespace Dsg.Core.Caching;

/// <summary>The local cache's side of the remote cache: downloads verified into place, uploads of verified entries, push and pull.</summary>
public sealed partial class ArtifactCache
{
    private const string ArchiveFileName = "entry.tar.gz";

    /// <summary>Room for the tar headers and a gzip that does not shrink, on top of the files a download may hold.</summary>
    private const long ArchiveOverheadBytes = 16L << 20;

    /// <summary>
    /// Downloads entry <paramref name="key"/> from <paramref name="remote"/> into this cache, unless a sound copy is
    /// here already. Takes the key's lock like <see cref="GetOrCreateAsync"/>.
    /// </summary>
    /// <exception cref="DsgException">The remote failed (<see cref="ErrorCodes.RemoteCacheUnavailable"/>, <see cref="ErrorCodes.RemoteCacheUnauthorized"/>), or <see cref="ErrorCodes.CacheUnwritable"/>.</exception>
    public async Task<CacheTransfer> PullAsync(string key, RemoteCache remote, Action<CacheWarning>? warn = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        if (!CacheKey.IsKey(key))
        {
            throw new ArgumentException("A cache key is 64 lowercase hex characters.", nameof(key));
        }

        EnsureWritable();
        using var keyLock = await AcquireLockAsync(key, warn, cancellationToken).ConfigureAwait(false);
        var entryDirectory = EntryDirectory(key);
        if (Directory.Exists(entryDirectory))
        {
            var problem = Verify(key, out _);
            if (problem is null)
            {
                return CacheTransfer.AlreadyThere;
            }

            warn?.Invoke(new CacheWarning(ErrorCodes.CacheEntryCorrupt, $"Cache entry {key} is corrupt ({problem}); it was dropped and is downloaded again."));
            RemoveDirectory(entryDirectory);
        }

        RemoveStaleStaging(key);
        var (entry, corruption) = await DownloadEntryAsync(key, remote, cancellationToken).ConfigureAwait(false);
        if (corruption is not null)
        {
            warn?.Invoke(new CacheWarning(ErrorCodes.RemoteCacheEntryCorrupt, $"The remote cache's entry {key} is corrupt ({corruption}); it was discarded."));
            return CacheTransfer.Corrupt;
        }

        if (entry is null)
        {
            return CacheTransfer.Missing;
        }

        PruneAfterAdding(key);
        return CacheTransfer.Copied;
    }

    /// <summary>
    /// Uploads this cache's entry <paramref name="key"/> to <paramref name="remote"/> after re-hashing it, unless the
    /// remote has the key already. Takes the key's lock, so pruning cannot remove the files meanwhile.
    /// </summary>
    /// <exception cref="DsgException">The remote failed (<see cref="ErrorCodes.RemoteCacheUploadFailed"/>, <see cref="ErrorCodes.RemoteCacheUnauthorized"/>, <see cref="ErrorCodes.RemoteCacheUnavailable"/>), or <see cref="ErrorCodes.CacheUnwritable"/>.</exception>
    public async Task<CacheTransfer> PushAsync(string key, RemoteCache remote, Action<CacheWarning>? warn = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        if (!CacheKey.IsKey(key))
        {
            throw new ArgumentException("A cache key is 64 lowercase hex characters.", nameof(key));
        }

        if (!Directory.Exists(EntryDirectory(key)))
        {
            return CacheTransfer.Missing;
        }

        EnsureWritable();
        using var keyLock = await AcquireLockAsync(key, warn, cancellationToken).ConfigureAwait(false);
        if (!Directory.Exists(EntryDirectory(key)))
        {
            return CacheTransfer.Missing;
        }

        var problem = Verify(key, out var entry);
        if (problem is not null)
        {
            warn?.Invoke(new CacheWarning(ErrorCodes.CacheEntryCorrupt, $"Cache entry {key} is corrupt ({problem}); it was not pushed (the next build that needs it produces it again)."));
            return CacheTransfer.Corrupt;
        }

        if (await remote.ExistsAsync(key, cancellationToken).ConfigureAwait(false))
        {
            return CacheTransfer.AlreadyThere;
        }

        return await UploadEntryAsync(entry!, remote, replace: false, cancellationToken).ConfigureAwait(false) ? CacheTransfer.Copied : CacheTransfer.AlreadyThere;
    }

    /// <summary>
    /// A build's download: the entry when the remote had a sound one, else whether the remote's copy was corrupt. A
    /// failing remote is suspended for the run with one warning; nothing here fails the build but the local disk.
    /// </summary>
    private async Task<(CacheEntry? Entry, bool Corrupt)> FetchFromRemoteAsync(string key, RemoteCache remote, Action<CacheWarning>? warn, CancellationToken cancellationToken)
    {
        try
        {
            var (entry, corruption) = await DownloadEntryAsync(key, remote, cancellationToken).ConfigureAwait(false);
            if (corruption is null)
            {
                return (entry, false);
            }

            warn?.Invoke(new CacheWarning(ErrorCodes.RemoteCacheEntryCorrupt,
                $"The remote cache's entry {key} is corrupt ({corruption}); it was discarded and the entry is produced here" +
                (remote.CanWrite ? ", then uploaded in its place." : ".")));
            return (null, true);
        }
        catch (DsgException e) when (e.Code is ErrorCodes.RemoteCacheUnavailable or ErrorCodes.RemoteCacheUnauthorized)
        {
            remote.Suspend(e, uploadsOnly: false, warn);
            return (null, false);
        }
    }

    /// <summary>A build's upload: true when this run put the entry on the remote; a failure is one warning and suspends uploads.</summary>
    private async Task<bool> UploadToRemoteAsync(CacheEntry entry, RemoteCache remote, bool replace, Action<CacheWarning>? warn, CancellationToken cancellationToken)
    {
        try
        {
            return await UploadEntryAsync(entry, remote, replace, cancellationToken).ConfigureAwait(false);
        }
        catch (DsgException e) when (e.Code is ErrorCodes.RemoteCacheUnavailable or ErrorCodes.RemoteCacheUnauthorized or ErrorCodes.RemoteCacheUploadFailed)
        {
            remote.Suspend(e, uploadsOnly: e.Code != ErrorCodes.RemoteCacheUnavailable, warn);
            return false;
        }
    }

    /// <summary>
    /// Downloads and unpacks entry <paramref name="key"/> beside the cache, then renames it into place. Returns the
    /// entry; (null, null) when the remote does not have it; (null, reason) when its archive is truncated or does not
    /// match its manifest (nothing is kept). The caller holds the key's lock and has removed any local copy.
    /// </summary>
    private async Task<(CacheEntry? Entry, string? Corruption)> DownloadEntryAsync(string key, RemoteCache remote, CancellationToken cancellationToken)
    {
        var work = Path.Combine(TempFolder, $"{key}.{Environment.ProcessId}.{Guid.NewGuid():N}.remote");
        CreateDirectory(work);
        try
        {
            var archive = Path.Combine(work, ArchiveFileName);
            var unpacked = Path.Combine(work, "entry");
            try
            {
                if (!await remote.DownloadAsync(key, archive, SizeLimitBytes + ArchiveOverheadBytes, cancellationToken).ConfigureAwait(false))
                {
                    return (null, null);
                }

                Directory.CreateDirectory(unpacked);
                CacheManifest manifest;
                using (var input = new FileStream(archive, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
                {
                    manifest = EntryArchive.Extract(input, key, unpacked, SizeLimitBytes);
                }

                File.WriteAllText(Path.Combine(unpacked, LastUsedFileName), DateTimeOffset.UtcNow.ToString("O"));
                var entryDirectory = EntryDirectory(key);
                Directory.Move(unpacked, entryDirectory);
                return (new CacheEntry(key, entryDirectory, manifest, DateTimeOffset.UtcNow), null);
            }
            catch (InvalidDataException e)
            {
                return (null, e.Message);
            }
            catch (Exception e) when (StorageErrors.IsStorageFailure(e))
            {
                throw Unwritable(Root, e);
            }
        }
        finally
        {
            RemoveDirectory(work);
        }
    }

    /// <summary>Packs a verified entry beside the cache and uploads it; true when this call put it there.</summary>
    private async Task<bool> UploadEntryAsync(CacheEntry entry, RemoteCache remote, bool replace, CancellationToken cancellationToken)
    {
        var work = Path.Combine(TempFolder, $"{entry.Key}.{Environment.ProcessId}.{Guid.NewGuid():N}.upload");
        try
        {
            var archive = Path.Combine(work, ArchiveFileName);
            try
            {
                Directory.CreateDirectory(work);
                using var output = new FileStream(archive, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
                EntryArchive.Write(entry.Directory, entry.Manifest, output);
            }
            catch (Exception e) when (StorageErrors.IsStorageFailure(e))
            {
                throw new DsgException(ErrorCodes.RemoteCacheUploadFailed,
                    $"Cache entry {entry.Key} could not be packed for the remote cache in '{TempFolder}': {StorageErrors.Describe(e)}; this run uploads nothing more.",
                    "Free space in the cache folder (--cache-dir); the entry itself is stored locally and the build goes on.", e);
            }

            return await remote.UploadAsync(entry.Key, archive, replace, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            RemoveDirectory(work);
        }
    }
}
