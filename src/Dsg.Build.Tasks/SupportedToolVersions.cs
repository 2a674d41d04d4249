using System;
using System.Linq;
using System.Reflection;
using NuGet.Versioning;

namespace Dsg.Build.Tasks;

/// <summary>
/// The tool versions this package drives, stamped into the assembly at build time from the package version
/// (see Dsg.Build.Tasks.csproj): a package x.y.z accepts tools in [x.y.0, x.(y+1).0).
/// </summary>
internal static class SupportedToolVersions
{
    private static readonly Lazy<VersionRange> s_range = new(() => VersionRange.Parse(Metadata("DsgSupportedToolVersions")));

    /// <summary>The accepted range, e.g. <c>[0.1.0, 0.2.0)</c>.</summary>
    public static VersionRange Range => s_range.Value;

    /// <summary>The version an install hint names, e.g. <c>0.1.0</c>.</summary>
    public static string Recommended => Metadata("DsgRecommendedToolVersion");

    /// <summary>This package's own version.</summary>
    public static string PackageVersion => Metadata("DsgPackageVersion");

    /// <summary>What to run to get a matching tool, for error messages.</summary>
    public static string InstallHint =>
        $"Install a matching tool globally with 'dotnet tool update --global Dsg.Tool --version {Recommended}', " +
        $"or in a local tool manifest next to the solution with 'dotnet new tool-manifest' then 'dotnet tool install Dsg.Tool --version {Recommended}'. " +
        "Alternatively set the DsgToolPath property to a dotnet-dsg executable of a matching version.";

    private static string Metadata(string key) =>
        typeof(SupportedToolVersions).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .First(a => a.Key == key).Value ?? string.Empty;
}
