using System.IO.Compression;

namespace Dsg.Build.Tasks.Tests.Integration;

/// <summary>What the packed Dsg.Build contains: MSBuild in the SDK would find NuGet.Versioning even if the package
/// lacked it, but Visual Studio's MSBuild would not, so the layout is checked on its own.</summary>
[Collection(SampleAppCollection.Name)]
[Trait("Category", "Slow")]
public sealed class PackageLayoutTests
{
    private readonly PackedFeedFixture _feed;

    public PackageLayoutTests(PackedFeedFixture feed) => _feed = feed;

    [Fact]
    public void PackageShipsTheTaskWithItsDependencyAndNothingForTheAppToReference()
    {
        using var package = ZipFile.OpenRead(Path.Combine(_feed.Feed, $"Dsg.Build.{_feed.Version}.nupkg"));
        var entries = package.Entries.Select(e => e.FullName).ToList();

        Assert.Contains("build/Dsg.Build.props", entries);
        Assert.Contains("build/Dsg.Build.targets", entries);
        Assert.Contains("tasks/netstandard2.0/Dsg.Build.Tasks.dll", entries);
        Assert.Contains("tasks/netstandard2.0/NuGet.Versioning.dll", entries);
        Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal));

        using var nuspec = new StreamReader(package.GetEntry("Dsg.Build.nuspec")!.Open());
        string text = nuspec.ReadToEnd();
        Assert.Contains("<developmentDependency>true</developmentDependency>", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<dependencies>", text, StringComparison.Ordinal);
    }
}
