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
}
