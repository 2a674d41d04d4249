namespace Dsg.Core;

/// <summary>
/// Publishes several files as one set (a model and its reports): the previous set stays in place until every new
/// file is complete. Each new file is first written to a temp name beside its target (<see cref="Add"/>,
/// <see cref="AddCopy"/>); <see cref="Commit"/> then swaps them in one by one, keeping a backup of each file it
/// replaces, and when any swap fails it puts the backups back. So a failure while writing (a full disk, a folder
/// in the way, a cancellation) leaves the old set exactly as it was, and nothing but the new set after success.
/// </summary>
/// <remarks>
/// Not thread-safe. Disposing a set that was not committed deletes its temp files. A process killed in the middle
/// of <see cref="Commit"/> can leave <c>.NAME.*.old</c> backups beside the targets (the old file, whole) and a mix
/// of old and new files, never a half-written one.
/// </remarks>
public sealed class AtomicFileSet : IDisposable
{
    private readonly List<(string Target, string Temp)> _staged = [];
    private bool _committed;

    /// <summary>Writes the new content of <paramref name="path"/> to a temp file beside it (the target is not touched yet).</summary>
    /// <exception cref="IOException">The folder cannot be created or the temp file written (the temp file is removed).</exception>
    /// <exception cref="UnauthorizedAccessException">The folder is not writable.</exception>
    public void Add(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        ObjectDisposedException.ThrowIf(_committed, this);
        var target = Path.GetFullPath(path);
        if (_staged.Any(s => string.Equals(s.Target, target, StringComparison.Ordinal)))
        {
            throw new ArgumentException($"'{target}' is already in the set.", nameof(path));
        }

        var directory = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(directory);
        var temp = SiblingName(target, "tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
        }
        catch
        {
            TryDelete(temp);
            throw;
        }

        _staged.Add((target, temp));
    }

    /// <summary>Stages a copy of <paramref name="source"/> as the new content of <paramref name="path"/>.</summary>
    public void AddCopy(string path, string source)
    {
        using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Add(path, output => input.CopyTo(output, 1 << 16));
    }

    /// <summary>
    /// Swaps every staged file into place. When a swap fails, the files already swapped are restored from their
    /// backups (or removed, when they did not exist before) and the exception is rethrown.
    /// </summary>
    /// <returns>The targets, in the order they were staged.</returns>
    /// <exception cref="IOException">A target is a folder, or a rename failed; the previous set is intact.</exception>
    /// <exception cref="OperationCanceledException">Cancelled before the first swap; nothing was changed.</exception>
    public IReadOnlyList<string> Commit(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        cancellationToken.ThrowIfCancellationRequested();
        foreach (var (target, _) in _staged)
        {
            if (Directory.Exists(target))
            {
                throw new IOException($"'{target}' is a folder, so the file cannot be written there.");
            }
        }

        // Past this point the swaps are renames in the targets' own folders: quick, so not cancelled halfway.
        var swapped = new List<(string Target, string? Backup)>();
        try
        {
            foreach (var (target, temp) in _staged)
            {
                if (File.Exists(target))
                {
                    var backup = SiblingName(target, "old");
                    // The old file is renamed to the backup name (copied where a rename is refused), then the new
                    // one is renamed to the target: two renames, each atomic.
                    File.Replace(temp, target, backup, ignoreMetadataErrors: true);
                    swapped.Add((target, backup));
                }
                else
                {
                    File.Move(temp, target, overwrite: false);
                    swapped.Add((target, null));
                }
            }
        }
        catch
        {
            for (int i = swapped.Count - 1; i >= 0; i--)
            {
                var (target, backup) = swapped[i];
                if (backup is null)
                {
                    TryDelete(target);
                }
                else
                {
                    try
                    {
                        File.Move(backup, target, overwrite: true);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        // The old file stays under its backup name; the rest is still restored.
                    }
                }
            }

            throw;
        }

        _committed = true;
        foreach (var (_, backup) in swapped)
        {
            if (backup is not null)
            {
                TryDelete(backup);
            }
        }

        return _staged.Select(s => s.Target).ToList();
    }

    /// <summary>Deletes the temp files of a set that was not committed (the targets are untouched).</summary>
    public void Dispose()
    {
        foreach (var (_, temp) in _staged)
        {
            TryDelete(temp);
        }

        _staged.Clear();
        _committed = true;
    }

    private static string SiblingName(string target, string suffix) =>
        Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.{suffix}");

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
