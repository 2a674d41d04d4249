using System.Security.Cryptography;

namespace Dsg.Core.Caching;

/// <summary>
/// A content-addressed store of produced files (a quantized model and its reports), one folder per key:
/// <c>ROOT/&lt;key&gt;/</c> with the files, <c>manifest.json</c> (name, size and SHA-256 of each file) and
/// <c>last-used</c> (its modification time orders least-recently-used pruning).
/// <list type="bullet">
/// <item>An entry is produced into <c>ROOT/.tmp/&lt;key&gt;.*</c> and renamed into place, so no reader sees half an entry.</item>
/// <item>Each key has a lock file in <c>ROOT/.locks</c>; two processes asking for one key produce it once, the second waits and reuses it.</item>
/// <item>A hit re-hashes the files; an entry that does not match its manifest is dropped (warning <see cref="ErrorCodes.CacheEntryCorrupt"/>) and produced again.</item>
/// <item>After each new entry the cache is pruned, least recently used first, down to its size limit.</item>
/// <item>With a <see cref="Remote"/> cache, a local miss is looked up there before anything is produced, and a new entry is
/// uploaded after it is stored (ArtifactCache.Remote.cs).</item>
/// </list>
/// </summary>
public sealed partial class ArtifactCache
{
    /// <summary>The default size bound: 2 GB.</summary>
    public const long DefaultSizeLimitBytes = 2L * 1024 * 1024 * 1024;

    private const string TempFolderName = ".tmp";
    private const string LocksFolderName = ".locks";
    private const string LastUsedFileName = "last-used";
    private const string DeletedPrefix = "deleted.";

    /// <summary>Creates a cache over <paramref name="root"/> (nothing is created until the first write).</summary>
    /// <param name="root">The cache folder.</param>
    /// <param name="sizeLimitBytes">The size bound enforced after each new entry.</param>
    /// <param name="lockTimeout">How long to wait for another process producing the same key (default 2 h: big models take that long on a CPU).</param>
    /// <param name="remote">A shared cache behind this one, or null.</param>
    public ArtifactCache(string root, long sizeLimitBytes = DefaultSizeLimitBytes, TimeSpan? lockTimeout = null, RemoteCache? remote = null)
    {
        Root = Path.GetFullPath(root);
        SizeLimitBytes = sizeLimitBytes;
        LockTimeout = lockTimeout ?? TimeSpan.FromHours(2);
        Remote = remote;
    }

    /// <summary>The cache folder.</summary>
    public string Root { get; }

    /// <summary>The size bound in bytes.</summary>
    public long SizeLimitBytes { get; }

    /// <summary>How long a process waits for another one producing the same key.</summary>
    public TimeSpan LockTimeout { get; }

    /// <summary>The shared cache behind this one, or null.</summary>
    public RemoteCache? Remote { get; }

    private string TempFolder => Path.Combine(Root, TempFolderName);

    private string LocksFolder => Path.Combine(Root, LocksFolderName);

    /// <summary>
    /// The per-user default cache folder: <c>$XDG_CACHE_HOME/dsg</c> or <c>~/.cache/dsg</c> on Linux and macOS,
    /// <c>%LOCALAPPDATA%\dsg\cache</c> on Windows.
    /// </summary>
    /// <param name="getEnvironmentVariable">Reads an environment variable (the process environment when null).</param>
    public static string DefaultRoot(Func<string, string?>? getEnvironmentVariable = null)
    {
        getEnvironmentVariable ??= Environment.GetEnvironmentVariable;
        if (OperatingSystem.IsWindows())
        {
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "dsg", "cache");
        }

        var xdg = getEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathFullyQualified(xdg))
        {
            return Path.Combine(xdg, "dsg");
        }

        var home = getEnvironmentVariable("HOME");
        if (string.IsNullOrEmpty(home))
        {
            home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        }

        return Path.Combine(home, ".cache", "dsg");
    }

    /// <summary>
    /// Returns the verified entry for <paramref name="key"/>, producing it with <paramref name="produce"/> when it is
    /// missing or corrupt. <paramref name="produce"/> writes the entry's files into the folder it is given and returns
    /// metadata to keep in the manifest. When it throws (cancellation included) nothing is left in the cache.
    /// With a <see cref="Remote"/> cache, a local miss is downloaded from it when it has the key, and a produced entry
    /// is uploaded; the remote's failures are warnings (once a run) and never fail the call.
    /// </summary>
    /// <exception cref="DsgException"><see cref="ErrorCodes.CacheUnwritable"/>, <see cref="ErrorCodes.CacheLockTimeout"/>.</exception>
    public async Task<CacheLookup> GetOrCreateAsync(
        string key,
        Func<string, CancellationToken, Task<IReadOnlyDictionary<string, string>>> produce,
        Action<CacheWarning>? warn = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(produce);
        if (!CacheKey.IsKey(key))
        {
            throw new ArgumentException("A cache key is 64 lowercase hex characters.", nameof(key));
        }

        EnsureWritable();
        var keyLock = await AcquireLockAsync(key, warn, cancellationToken).ConfigureAwait(false);
        try
        {
            var entryDirectory = EntryDirectory(key);
            if (Directory.Exists(entryDirectory))
            {
                var problem = Verify(key, out var existing);
                if (problem is null)
                {
                    Touch(entryDirectory);
                    return new CacheLookup(existing!, CacheSource.Local, keyLock);
                }

                warn?.Invoke(new CacheWarning(ErrorCodes.CacheEntryCorrupt,
                    $"Cache entry {key} is corrupt ({problem}); it was dropped and will be produced again."));
                RemoveDirectory(entryDirectory);
            }

            RemoveStaleStaging(key);
            bool replaceRemote = false;
            if (Remote is { CanRead: true } remote)
            {
                var (downloaded, corrupt) = await FetchFromRemoteAsync(key, remote, warn, cancellationToken).ConfigureAwait(false);
                if (downloaded is not null)
                {
                    PruneAfterAdding(key);
                    return new CacheLookup(downloaded, CacheSource.Remote, keyLock);
                }

                replaceRemote = corrupt;
            }

            var staging = Path.Combine(TempFolder, $"{key}.{Environment.ProcessId}.{Guid.NewGuid():N}");
            CreateDirectory(staging);
            try
            {
                IReadOnlyDictionary<string, string> metadata;
                try
                {
                    metadata = await produce(staging, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (IsCacheWriteFailure(e, staging))
                {
                    throw Unwritable(Root, e);
                }

                cancellationToken.ThrowIfCancellationRequested();
                CacheManifest manifest;
                try
                {
                    manifest = WriteManifest(key, staging, metadata);
                    Directory.Move(staging, entryDirectory);
                }
                catch (Exception e) when (StorageErrors.IsStorageFailure(e))
                {
                    throw Unwritable(Root, e);
                }

                var entry = new CacheEntry(key, entryDirectory, manifest, DateTimeOffset.UtcNow);
                bool uploaded = Remote is { CanWrite: true } writer
                    && await UploadToRemoteAsync(entry, writer, replaceRemote, warn, cancellationToken).ConfigureAwait(false);
                PruneAfterAdding(key);
                return new CacheLookup(entry, CacheSource.Produced, keyLock, uploaded);
            }
            catch
            {
                RemoveDirectory(staging);
                throw;
            }
        }
        catch
        {
            keyLock.Dispose();
            throw;
        }
    }

    /// <summary>Every complete entry, most recently used first (files are not re-hashed).</summary>
    public IReadOnlyList<CacheEntry> List()
    {
        if (!Directory.Exists(Root))
        {
            return Array.Empty<CacheEntry>();
        }

        var entries = new List<CacheEntry>();
        foreach (var directory in Directory.EnumerateDirectories(Root))
        {
            var key = Path.GetFileName(directory);
            if (CacheKey.IsKey(key) && CacheManifest.TryRead(Path.Combine(directory, CacheManifest.FileName)) is { } manifest)
            {
                entries.Add(new CacheEntry(key, directory, manifest, LastUsed(directory)));
            }
        }

        return entries.OrderByDescending(e => e.LastUsedUtc).ToList();
    }

    /// <summary>
    /// Removes least-recently-used entries until the cache holds at most <paramref name="sizeLimitBytes"/>, plus
    /// leftovers of interrupted runs. Entries in use by another process are skipped.
    /// </summary>
    /// <exception cref="DsgException"><see cref="ErrorCodes.CacheUnwritable"/> when entries cannot be removed.</exception>
    public PruneResult Prune(long sizeLimitBytes)
    {
        try
        {
            return Prune(sizeLimitBytes, exceptKey: null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unwritable(Root, e);
        }
    }

    /// <summary>Removes every entry that is not in use, and every leftover of interrupted runs.</summary>
    /// <exception cref="DsgException"><see cref="ErrorCodes.CacheUnwritable"/> when entries cannot be removed.</exception>
    public PruneResult Clear()
    {
        var result = Prune(0);
        if (Directory.Exists(LocksFolder))
        {
            foreach (var file in Directory.EnumerateFiles(LocksFolder, "*.lock"))
            {
                var key = Path.GetFileNameWithoutExtension(file);
                if (!Directory.Exists(EntryDirectory(key)) && CacheLock.TryAcquire(file) is { } unused)
                {
                    unused.Dispose();
                    TryDeleteFile(file);
                }
            }
        }

        return result;
    }

    /// <summary>Re-hashes an entry's files against its manifest; null when it is sound, else what is wrong.</summary>
    public string? Verify(string key, out CacheEntry? entry)
    {
        entry = null;
        var directory = EntryDirectory(key);
        var manifest = CacheManifest.TryRead(Path.Combine(directory, CacheManifest.FileName));
        if (manifest is null)
        {
            return "manifest.json is missing or unreadable";
        }

        if (manifest.Key != key)
        {
            return $"manifest.json names key {manifest.Key}";
        }

        foreach (var file in manifest.Files)
        {
            var path = Path.Combine(directory, file.Name.Replace('/', Path.DirectorySeparatorChar));
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return $"{file.Name} is missing";
            }

            if (info.Length != file.Size)
            {
                return $"{file.Name} has {info.Length} bytes, the manifest says {file.Size}";
            }

            if (!string.Equals(HashFile(path), file.Sha256, StringComparison.Ordinal))
            {
                return $"{file.Name} does not match its SHA-256";
            }
        }

        entry = new CacheEntry(key, directory, manifest, LastUsed(directory));
        return null;
    }

    private string EntryDirectory(string key) => Path.Combine(Root, key);

    /// <summary>Prunes down to the size limit after <paramref name="key"/> was added, keeping it.</summary>
    private void PruneAfterAdding(string key)
    {
        try
        {
            Prune(SizeLimitBytes, exceptKey: key);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The new entry is complete; pruning is retried after the next one or by `cache prune`.
        }
    }

    private string LockFile(string key) => Path.Combine(LocksFolder, key + ".lock");

    private async Task<CacheLock> AcquireLockAsync(string key, Action<CacheWarning>? warn, CancellationToken cancellationToken)
    {
        try
        {
            return await CacheLock.AcquireAsync(LockFile(key), LockTimeout,
                holder => warn?.Invoke(new CacheWarning(null, $"Waiting for {holder}, which is producing cache entry {key}.")),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw Unwritable(LocksFolder, e);
        }
    }

    private PruneResult Prune(long sizeLimitBytes, string? exceptKey)
    {
        RemoveAbandonedStaging();
        var entries = List().OrderBy(e => e.LastUsedUtc).ToList();
        long total = entries.Sum(e => e.SizeBytes);
        int removed = 0;
        long removedBytes = 0;
        foreach (var entry in entries)
        {
            if (total <= sizeLimitBytes)
            {
                break;
            }

            if (entry.Key == exceptKey)
            {
                continue;
            }

            Directory.CreateDirectory(LocksFolder);
            using var entryLock = CacheLock.TryAcquire(LockFile(entry.Key));
            if (entryLock is null)
            {
                continue;
            }

            RemoveDirectory(entry.Directory);
            total -= entry.SizeBytes;
            removedBytes += entry.SizeBytes;
            removed++;
        }

        return new PruneResult(removed, removedBytes, entries.Count - removed, total);
    }

    private void RemoveAbandonedStaging()
    {
        if (!Directory.Exists(TempFolder))
        {
            return;
        }

        foreach (var directory in Directory.EnumerateDirectories(TempFolder))
        {
            var name = Path.GetFileName(directory);
            if (name.StartsWith(DeletedPrefix, StringComparison.Ordinal))
            {
                // Renamed aside by RemoveDirectory and not (fully) deleted: nothing reads it any more.
                TryDeleteDirectory(directory);
                continue;
            }

            var key = name.Length >= 64 ? name[..64] : "";
            if (!CacheKey.IsKey(key) || !Directory.Exists(LocksFolder))
            {
                continue;
            }

            using var keyLock = CacheLock.TryAcquire(LockFile(key));
            if (keyLock is not null)
            {
                RemoveDirectory(directory);
            }
        }
    }

    private void RemoveStaleStaging(string key)
    {
        if (Directory.Exists(TempFolder))
        {
            foreach (var directory in Directory.EnumerateDirectories(TempFolder, key + ".*"))
            {
                RemoveDirectory(directory);
            }
        }
    }

    private static CacheManifest WriteManifest(string key, string staging, IReadOnlyDictionary<string, string> metadata)
    {
        var files = Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(staging, path).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(name => name is not CacheManifest.FileName and not LastUsedFileName)
            .OrderBy(name => name, StringComparer.Ordinal)
            .Select(name =>
            {
                var path = Path.Combine(staging, name);
                return new CacheFile(name, new FileInfo(path).Length, HashFile(path));
            })
            .ToList();
        var manifest = new CacheManifest(key, ToolVersionOf(metadata), CacheKey.AlgorithmVersion, DateTimeOffset.UtcNow,
            files, new SortedDictionary<string, string>(metadata.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal));
        File.WriteAllText(Path.Combine(staging, CacheManifest.FileName), manifest.ToJson());
        File.WriteAllText(Path.Combine(staging, LastUsedFileName), DateTimeOffset.UtcNow.ToString("O"));
        return manifest;
    }

    private static string ToolVersionOf(IReadOnlyDictionary<string, string> metadata) =>
        metadata.TryGetValue("toolVersion", out var version) ? version : "";

    private static string HashFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static DateTimeOffset LastUsed(string entryDirectory)
    {
        var file = Path.Combine(entryDirectory, LastUsedFileName);
        return File.Exists(file) ? File.GetLastWriteTimeUtc(file) : Directory.GetLastWriteTimeUtc(entryDirectory);
    }

    private static void Touch(string entryDirectory)
    {
        try
        {
            File.WriteAllText(Path.Combine(entryDirectory, LastUsedFileName), DateTimeOffset.UtcNow.ToString("O"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only cache still serves hits; only the LRU order goes stale.
        }
    }

    private void EnsureWritable()
    {
        CreateDirectory(Root);
        CreateDirectory(TempFolder);
        CreateDirectory(LocksFolder);
    }

    private void CreateDirectory(string path)
    {
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw Unwritable(path, e);
        }
    }

    /// <summary>
    /// Whether a producer's failure is the cache's storage failing: a full disk (wherever it surfaced), or an output
    /// the producer could not write into its staging folder, which lies inside the cache.
    /// </summary>
    private static bool IsCacheWriteFailure(Exception e, string staging) =>
        StorageErrors.IsDiskFull(e)
        || (e is DsgException { Code: ErrorCodes.OutputUnwritable, FilePath: { } path }
            && Path.GetFullPath(path).StartsWith(staging + Path.DirectorySeparatorChar, StringComparison.Ordinal));

    private static DsgException Unwritable(string path, Exception e) => new(
        ErrorCodes.CacheUnwritable,
        $"The cache folder '{path}' cannot be written: {StorageErrors.Describe(e is DsgException { InnerException: { } inner } ? inner : e)}.",
        "Point the cache at a writable folder with --cache-dir DIR or the DSG_CACHE_DIR environment variable (or \"cacheDir\" in dsg.json), or run with --no-cache.",
        e) { FilePath = path };

    /// <summary>Renames the folder aside first, so a reader never sees a half-deleted entry, then deletes it.</summary>
    private void RemoveDirectory(string path)
    {
        if (!Directory.Exists(path))
        {
            return;
        }

        var doomed = Path.Combine(TempFolder, DeletedPrefix + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.Move(path, doomed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            doomed = path;
        }

        try
        {
            Directory.Delete(doomed, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next prune.
        }
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another process may be deleting it right now; the next prune tries again.
        }
    }

    private static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
