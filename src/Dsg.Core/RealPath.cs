namespace Dsg.Core;

/// <summary>
/// Paths as the file system resolves them: every symbolic link in every component followed (like <c>realpath</c>),
/// so that "is this inside the model's folder" and "is the output the input" are asked of the real places, not of
/// the strings the user typed.
/// </summary>
public static class RealPath
{
    /// <summary>How many links one resolution follows before it calls the path a loop (Linux's own limit).</summary>
    public const int MaxLinks = 40;

    private static readonly char[] Separators = [Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar];

    /// <summary>Whether paths differ only by letter case on this system's usual file systems (Windows, macOS).</summary>
    public static StringComparison Comparison { get; } =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    /// <summary>
    /// The absolute path with every link component resolved and <c>.</c>/<c>..</c> applied after resolution (so
    /// <c>link/..</c> is the parent of the link's target, as the kernel sees it). Components that do not exist are
    /// kept as written.
    /// </summary>
    /// <exception cref="IOException">More than <see cref="MaxLinks"/> links (a loop).</exception>
    public static string Resolve(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var absolute = Path.IsPathFullyQualified(path) ? path : Path.Combine(Directory.GetCurrentDirectory(), path);
        var root = Path.GetPathRoot(absolute)!;
        var pending = new Stack<string>(Split(absolute[root.Length..]).Reverse());
        var current = root;
        int links = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            var next = Path.Combine(current, part);
            var target = LinkTarget(next);
            if (target is null)
            {
                current = next;
                continue;
            }

            if (++links > MaxLinks)
            {
                throw new IOException($"'{path}' goes through more than {MaxLinks} symbolic links (a loop?).");
            }

            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(target)!;
                target = target[current.Length..];
            }

            foreach (var component in Split(target).Reverse())
            {
                pending.Push(component);
            }
        }

        return current;
    }

    /// <summary>Whether <paramref name="path"/> (already resolved) is <paramref name="folder"/> (already resolved) or inside it.</summary>
    public static bool IsInside(string path, string folder)
    {
        var prefix = Path.EndsInDirectorySeparator(folder) ? folder : folder + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, Comparison);
    }

    /// <summary>
    /// Whether two paths reach the same file: their resolved paths are equal, or (on Linux) both exist and have the
    /// same device and inode (a bind mount, a hard link).
    /// </summary>
    public static bool SameFile(string first, string second)
    {
        if (string.Equals(Resolve(first), Resolve(second), Comparison))
        {
            return true;
        }

        try
        {
            return FileNode.Of(first) is { } a && FileNode.Of(second) is { } b && a.SameFileAs(b);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static IEnumerable<string> Split(string path) => path.Split(Separators, StringSplitOptions.RemoveEmptyEntries);
}
