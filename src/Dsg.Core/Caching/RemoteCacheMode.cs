namespace Dsg.Core.Caching;

/// <summary>What a run may do with the remote cache.</summary>
public enum RemoteCacheMode
{
    /// <summary>Download on a local miss and upload what the run produces.</summary>
    ReadWrite,

    /// <summary>Download on a local miss, never upload (pull-request builds, developer machines).</summary>
    Read,
}

/// <summary>The names of <see cref="RemoteCacheMode"/> as settings spell them: the one list of allowed values.</summary>
public static class RemoteCacheModes
{
    private static readonly (string Name, RemoteCacheMode Mode)[] s_modes = [("read", RemoteCacheMode.Read), ("readwrite", RemoteCacheMode.ReadWrite)];

    /// <summary>Every accepted name: <c>read</c>, <c>readwrite</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. s_modes.Select(m => m.Name)];

    /// <summary>The setting's name of <paramref name="mode"/>.</summary>
    public static string Name(RemoteCacheMode mode) => s_modes.First(m => m.Mode == mode).Name;

    /// <summary>Parses a name, ignoring case; null when it is not one of <see cref="Names"/>.</summary>
    public static RemoteCacheMode? Parse(string? text) =>
        s_modes.FirstOrDefault(m => string.Equals(m.Name, text?.Trim(), StringComparison.OrdinalIgnoreCase)) is { Name: not null } match ? match.Mode : null;
}
