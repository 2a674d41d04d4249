using System.Diagnostics;

namespace Dsg.Core.Caching;

/// <summary>
/// A cross-process lock on one cache key: a lock file opened with <see cref="FileShare.None"/>. On Linux and
/// macOS .NET takes an exclusive <c>flock</c> on it, on Windows a sharing lock; both are released by the
/// operating system when the holder exits, even when it is killed, so a lock file left behind by a dead
/// process is never stale: the next process simply acquires it. The holder writes its process id to a side
/// file so a waiter can say whom it waits for.
/// </summary>
internal sealed class CacheLock : IDisposable
{
    private readonly FileStream _stream;
    private readonly string _ownerFile;

    private CacheLock(FileStream stream, string ownerFile)
    {
        _stream = stream;
        _ownerFile = ownerFile;
    }

    /// <summary>Takes the lock if nobody holds it; null otherwise.</summary>
    public static CacheLock? TryAcquire(string path)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
        }
        catch (IOException) when (File.Exists(path))
        {
            return null;
        }

        var owner = path + ".owner";
        try
        {
            File.WriteAllText(owner, $"{Environment.ProcessId} {Environment.MachineName} {DateTimeOffset.UtcNow:O}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The owner file is only for messages.
        }

        return new CacheLock(stream, owner);
    }

    /// <summary>Waits for the lock, polling, until <paramref name="timeout"/> passes.</summary>
    /// <param name="path">The lock file.</param>
    /// <param name="timeout">How long to wait before giving up with <see cref="ErrorCodes.CacheLockTimeout"/>.</param>
    /// <param name="onWait">Called once, with the holder's description, when the lock is busy.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public static async Task<CacheLock> AcquireAsync(string path, TimeSpan timeout, Action<string>? onWait, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        bool announced = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var acquired = TryAcquire(path);
            if (acquired is not null)
            {
                return acquired;
            }

            if (!announced)
            {
                announced = true;
                onWait?.Invoke(DescribeHolder(path));
            }

            if (clock.Elapsed >= timeout)
            {
                throw new DsgException(
                    ErrorCodes.CacheLockTimeout,
                    $"Waited {timeout.TotalSeconds:0} s for the cache lock '{path}', held by {DescribeHolder(path)}.",
                    "Another dsg run is producing the same model and settings. Wait for it to finish, raise the wait with " +
                    "DSG_CACHE_LOCK_TIMEOUT (seconds), or run with --no-cache.") { FilePath = path };
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Releases the lock. The lock file stays: deleting it could let a third process lock a different file.</summary>
    public void Dispose()
    {
        try
        {
            File.Delete(_ownerFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        _stream.Dispose();
    }

    private static string DescribeHolder(string path)
    {
        try
        {
            var parts = File.ReadAllText(path + ".owner").Split(' ');
            return parts.Length >= 2 ? $"process {parts[0]} on {parts[1]}" : "another process";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "another process";
        }
    }
}
