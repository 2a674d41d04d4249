using Dsg.Core.Caching;

namespace Dsg.Core.Tests.Caching;

public sealed class ArtifactCacheTests : IDisposable
{
    private static readonly string s_key = new('a', 64);
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Root => Path.Combine(_folder.Path, "cache");

    private static Func<string, CancellationToken, Task<IReadOnlyDictionary<string, string>>> Producer(
        Action onCall, string content = "quantized model", int delayMs = 0)
    {
        return async (dir, ct) =>
        {
            onCall();
            if (delayMs > 0)
            {
                await Task.Delay(delayMs, ct);
            }

            await File.WriteAllTextAsync(Path.Combine(dir, "model.onnx"), content, ct);
            Directory.CreateDirectory(Path.Combine(dir, "sub"));
            await File.WriteAllTextAsync(Path.Combine(dir, "sub", "model.report.json"), "{\"agreement\":0.99}", ct);
            return new Dictionary<string, string> { ["agreement"] = "0.99" };
        };
    }

    [Fact]
    public async Task SecondRequestForAKeyIsAHitWithTheSameFiles()
    {
        var cache = new ArtifactCache(Root);
        int calls = 0;
        CacheEntry first;
        using (var miss = await cache.GetOrCreateAsync(s_key, Producer(() => calls++)))
        {
            Assert.False(miss.Hit);
            first = miss.Entry;
        }

        using var hit = await cache.GetOrCreateAsync(s_key, Producer(() => calls++));
        Assert.True(hit.Hit);
        Assert.Equal(1, calls);
        Assert.Equal(first.Manifest.Files, hit.Entry.Manifest.Files);
        Assert.Equal(new[] { "model.onnx", "sub/model.report.json" }, hit.Entry.Manifest.Files.Select(f => f.Name));
        Assert.Equal("quantized model", File.ReadAllText(hit.Entry.PathOf("model.onnx")));
        Assert.Equal("0.99", hit.Entry.Manifest.Metadata["agreement"]);
        Assert.Equal(Path.Combine(Root, s_key), hit.Entry.Directory);
    }

    [Fact]
    public async Task CorruptEntryIsDroppedWithAWarningAndProducedAgain()
    {
        var cache = new ArtifactCache(Root);
        int calls = 0;
        using (var miss = await cache.GetOrCreateAsync(s_key, Producer(() => calls++)))
        {
            File.WriteAllText(miss.Entry.PathOf("model.onnx"), "quantized modeL");
        }

        var warnings = new List<CacheWarning>();
        using var again = await cache.GetOrCreateAsync(s_key, Producer(() => calls++), warnings.Add);
        Assert.False(again.Hit);
        Assert.Equal(2, calls);
        var warning = Assert.Single(warnings);
        Assert.Equal(ErrorCodes.CacheEntryCorrupt, warning.Code);
        Assert.Contains("model.onnx", warning.Message);
        Assert.Null(cache.Verify(s_key, out _));
    }

    [Fact]
    public async Task FailedOrCancelledProductionLeavesNoEntryAndNoStaging()
    {
        var cache = new ArtifactCache(Root);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            cache.GetOrCreateAsync(s_key, Producer(() => { }, delayMs: 10_000), cancellationToken: cts.Token));
        await Assert.ThrowsAsync<InvalidDataException>(() =>
            cache.GetOrCreateAsync(s_key, (dir, _) =>
            {
                File.WriteAllText(Path.Combine(dir, "half.onnx"), "x");
                throw new InvalidDataException("boom");
            }));

        Assert.False(Directory.Exists(Path.Combine(Root, s_key)));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(Root, ".tmp")));
        Assert.Empty(cache.List());
    }

    [Fact]
    public async Task ConcurrentRequestsForOneKeyProduceOnce()
    {
        // Each request opens its own lock file handle, exactly as two processes would.
        var cache = new ArtifactCache(Root);
        int calls = 0;
        var producer = Producer(() => Interlocked.Increment(ref calls), delayMs: 500);
        var lookups = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            using var lookup = await cache.GetOrCreateAsync(s_key, producer);
            return (lookup.Hit, Bytes: File.ReadAllBytes(lookup.Entry.PathOf("model.onnx")));
        })));

        Assert.Equal(1, calls);
        Assert.Single(lookups, l => !l.Hit);
        Assert.All(lookups, l => Assert.Equal(lookups[0].Bytes, l.Bytes));
    }

    [Fact]
    public async Task WaiterGivesUpWithLockTimeoutCode()
    {
        var cache = new ArtifactCache(Root, lockTimeout: TimeSpan.FromMilliseconds(300));
        using var holder = await cache.GetOrCreateAsync(s_key, Producer(() => { }));
        var waits = new List<CacheWarning>();
        var error = await Assert.ThrowsAsync<DsgException>(() => cache.GetOrCreateAsync(s_key, Producer(() => { }), waits.Add));
        Assert.Equal(ErrorCodes.CacheLockTimeout, error.Code);
        Assert.Contains($"process {Environment.ProcessId}", error.Message);
        Assert.Contains("--no-cache", error.Hint);
        Assert.Null(Assert.Single(waits).Code);
    }

    [Fact]
    public async Task LockLeftByAnEndedHolderIsNotStale()
    {
        var cache = new ArtifactCache(Root, lockTimeout: TimeSpan.FromSeconds(5));
        var lockFile = Path.Combine(Root, ".locks", s_key + ".lock");
        Directory.CreateDirectory(Path.GetDirectoryName(lockFile)!);
        File.WriteAllText(lockFile, "12345");
        File.WriteAllText(lockFile + ".owner", "12345 elsewhere 2020-01-01");
        using var lookup = await cache.GetOrCreateAsync(s_key, Producer(() => { }));
        Assert.False(lookup.Hit);
    }

    [Fact]
    public async Task PruneRemovesLeastRecentlyUsedEntriesFirst()
    {
        var cache = new ArtifactCache(Root, sizeLimitBytes: long.MaxValue);
        var keys = new[] { new string('1', 64), new string('2', 64), new string('3', 64) };
        var content = new string('x', 1000);
        for (int i = 0; i < keys.Length; i++)
        {
            using var lookup = await cache.GetOrCreateAsync(keys[i], Producer(() => { }, content));
            File.SetLastWriteTimeUtc(Path.Combine(lookup.Entry.Directory, "last-used"), DateTime.UtcNow.AddHours(-10 + i));
        }

        // A hit on the oldest entry makes it the most recently used.
        using (await cache.GetOrCreateAsync(keys[0], Producer(() => throw new InvalidOperationException("must be a hit"))))
        {
        }

        long entrySize = cache.List()[0].SizeBytes;
        var result = cache.Prune(entrySize * 2);
        Assert.Equal(1, result.RemovedEntries);
        Assert.Equal(new[] { keys[0], keys[2] }, cache.List().Select(e => e.Key));
        Assert.Equal(entrySize * 2, result.RemainingBytes);
    }

    [Fact]
    public async Task NewEntryTriggersPruningToTheSizeLimit()
    {
        var cache = new ArtifactCache(Root, sizeLimitBytes: 1500);
        using (await cache.GetOrCreateAsync(new string('1', 64), Producer(() => { }, new string('x', 1000))))
        {
        }

        using (await cache.GetOrCreateAsync(new string('2', 64), Producer(() => { }, new string('y', 1000))))
        {
        }

        Assert.Equal(new[] { new string('2', 64) }, cache.List().Select(e => e.Key));
    }

    [Fact]
    public async Task ClearRemovesEntriesAndLeftoversOfKilledRuns()
    {
        var cache = new ArtifactCache(Root);
        using (await cache.GetOrCreateAsync(s_key, Producer(() => { })))
        {
        }

        var leftover = Path.Combine(Root, ".tmp", new string('b', 64) + ".999.dead");
        Directory.CreateDirectory(leftover);
        File.WriteAllText(Path.Combine(leftover, "model.onnx"), "half");
        var result = cache.Clear();
        Assert.Equal(1, result.RemovedEntries);
        Assert.Empty(cache.List());
        Assert.False(Directory.Exists(leftover));
    }

    [Fact]
    public async Task PruneSweepsFoldersLeftHalfDeleted()
    {
        // Issue 14, item 9: RemoveDirectory renames entries to .tmp/deleted.<guid> first; a kill there left them forever.
        var cache = new ArtifactCache(Root);
        using (await cache.GetOrCreateAsync(s_key, Producer(() => { })))
        {
        }

        var doomed = Path.Combine(Root, ".tmp", "deleted." + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(doomed, "sub"));
        File.WriteAllText(Path.Combine(doomed, "sub", "model.onnx"), "half");

        cache.Prune(long.MaxValue);

        Assert.False(Directory.Exists(doomed));
        Assert.Single(cache.List());
    }

    [Fact]
    public async Task AFullDiskWhileProducingIsTheCacheCodeAndLeavesNoStaging()
    {
        // Issue 14, item 6: ENOSPC surfaced as an IOException and exit 2. /dev/full fails every write with ENOSPC.
        var cache = new ArtifactCache(Root);
        var error = await Assert.ThrowsAsync<DsgException>(() => cache.GetOrCreateAsync(s_key, (dir, ct) =>
        {
            using var full = new FileStream("/dev/full", FileMode.Open, FileAccess.Write);
            full.Write(new byte[1 << 16]);
            full.Flush();
            return Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>());
        }));

        Assert.Equal(ErrorCodes.CacheUnwritable, error.Code);
        Assert.Contains("the disk is full", error.Message);
        Assert.Empty(cache.List());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(Root, ".tmp")));
    }

    [Fact]
    public async Task AnOutputTheProducerCannotWriteIntoItsStagingFolderIsTheCacheCode()
    {
        var cache = new ArtifactCache(Root);
        var error = await Assert.ThrowsAsync<DsgException>(() => cache.GetOrCreateAsync(s_key, (dir, ct) =>
        {
            Directory.CreateDirectory(Path.Combine(dir, "model.onnx"));
            Dsg.Core.Pipeline.QuantizeOutputs.Publish(Path.Combine(dir, "model.onnx"), "/nonexistent/fp32.onnx", [1, 2, 3], null);
            return Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>());
        }));

        Assert.Equal(ErrorCodes.CacheUnwritable, error.Code);
        Assert.Contains(Root, error.Message);
        Assert.Empty(cache.List());
    }

    [Fact]
    public async Task ADeniedPermissionOutsideTheStagingFolderIsNotBlamedOnTheCache()
    {
        var cache = new ArtifactCache(Root);
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => cache.GetOrCreateAsync(s_key, (dir, ct) =>
            throw new UnauthorizedAccessException("reading someone else's calibration file")));
        Assert.Empty(cache.List());
    }

    [Fact]
    public async Task UnwritableCacheFolderIsACodedErrorNamingTheFix()
    {
        var file = Path.Combine(_folder.Path, "not-a-folder");
        File.WriteAllText(file, "");
        var cache = new ArtifactCache(Path.Combine(file, "cache"));
        var error = await Assert.ThrowsAsync<DsgException>(() => cache.GetOrCreateAsync(s_key, Producer(() => { })));
        Assert.Equal(ErrorCodes.CacheUnwritable, error.Code);
        Assert.Contains(file, error.Message);
        Assert.Contains("DSG_CACHE_DIR", error.Hint);
        Assert.Contains("--cache-dir", error.Hint);
    }

    [Fact]
    public void DefaultRootFollowsXdgCacheHomeThenHome()
    {
        Assert.Equal("/xdg/dsg", ArtifactCache.DefaultRoot(name => name == "XDG_CACHE_HOME" ? "/xdg" : "/home/u"));
        Assert.Equal("/home/u/.cache/dsg", ArtifactCache.DefaultRoot(name => name == "HOME" ? "/home/u" : null));
    }
}
