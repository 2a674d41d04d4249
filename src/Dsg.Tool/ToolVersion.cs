using System.Reflection;

namespace Dsg.Tool;

/// <summary>The tool's SemVer, with the commit as build metadata when the build knew it (<c>0.1.0+1a2b3c4</c>).</summary>
internal static class ToolVersion
{
    private static readonly Lazy<string> s_current = new(() =>
    {
        var informational = typeof(ToolVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        int plus = informational.IndexOf('+', StringComparison.Ordinal);
        // Keep a short commit id: the SDK appends the full 40-character hash.
        return plus >= 0 && informational.Length - plus > 8 ? informational[..(plus + 8)] : informational;
    });

    public static string Current => s_current.Value;

    /// <summary>The SemVer without build metadata, which is what enters cache keys.</summary>
    public static string Release => Current.Split('+')[0];
}
