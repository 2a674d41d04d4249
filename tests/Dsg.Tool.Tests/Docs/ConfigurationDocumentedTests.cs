using Dsg.Tests.Shared;
using Dsg.Tool.Configuration;

namespace Dsg.Tool.Tests.Docs;

public sealed class ConfigurationDocumentedTests
{
    [Fact]
    public void EverySettingHasARowNamingItInEverySource()
    {
        var rows = File.ReadAllLines(Path.Combine(RepoPaths.Root, "docs", "configuration.md")).Where(l => l.StartsWith("| ", StringComparison.Ordinal)).ToList();
        foreach (var definition in OptionCatalog.All)
        {
            var row = Assert.Single(rows, r => r.StartsWith($"| {definition.Name} |", StringComparison.Ordinal));
            Assert.Contains($"`{definition.ConfigKey}`", row);
            Assert.Contains($"`{definition.EnvironmentVariable}`", row);
            Assert.Contains($"`{definition.Flag}`", row);
            Assert.Contains(definition.AffectsOutput ? "| yes |" : "| no", row.Replace("its content's SHA-256", "yes"));
        }
    }

    [Fact]
    public void EverySettingHasARowInTheQuantizeOptionsOfCliMd()
    {
        var text = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "cli.md"));
        var quantize = text[text.IndexOf("## quantize", StringComparison.Ordinal)..text.IndexOf("## generate", StringComparison.Ordinal)];
        foreach (var definition in OptionCatalog.All)
        {
            Assert.Contains($"| `{definition.Flag}", quantize);
        }
    }

    [Fact]
    public void EveryItemSettingIsMetadataInMsBuildMdAndInTheProps()
    {
        var rows = File.ReadAllLines(Path.Combine(RepoPaths.Root, "docs", "msbuild.md")).Where(l => l.StartsWith("| `", StringComparison.Ordinal)).ToList();
        var props = File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "Dsg.Build.Tasks", "build", "Dsg.Build.props"));
        // The cache settings are build properties (DsgCacheDir, DsgNoCache, DsgRemoteCache...), not metadata of one item.
        foreach (var definition in OptionCatalog.All.Except(OptionCatalog.BuildWide))
        {
            var row = Assert.Single(rows, r => r.StartsWith($"| `{definition.Name}` |", StringComparison.Ordinal));
            Assert.Contains($"`{definition.Flag}`", row);
            Assert.Contains($"<{definition.Name}>", props);
        }
    }

    [Fact]
    public void EveryDocumentedDefaultIsTheRecordsDefault()
    {
        static string Cell(string row, int index) => row.Split(" | ")[index];
        var configuration = File.ReadAllLines(Path.Combine(RepoPaths.Root, "docs", "configuration.md")).Where(l => l.StartsWith("| ", StringComparison.Ordinal)).ToList();
        var msbuild = File.ReadAllLines(Path.Combine(RepoPaths.Root, "docs", "msbuild.md")).Where(l => l.StartsWith("| `", StringComparison.Ordinal)).ToList();
        foreach (var definition in OptionCatalog.All)
        {
            var row = configuration.Single(r => r.StartsWith($"| {definition.Name} |", StringComparison.Ordinal));
            var metadataRow = msbuild.SingleOrDefault(r => r.StartsWith($"| `{definition.Name}` |", StringComparison.Ordinal));
            if (definition.DefaultText is { } value)
            {
                Assert.StartsWith($"`{value}`", Cell(row, 4));
                if (metadataRow is not null)
                {
                    Assert.StartsWith($"`{value}`", Cell(metadataRow, 1));
                }
            }
            else
            {
                // Unset by default: the docs say what decides instead of naming a value.
                Assert.DoesNotMatch("^`[^`]*`$", Cell(row, 4));
            }
        }
    }
}
