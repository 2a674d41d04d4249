using Dsg.Core.Caching;

namespace Dsg.Tool.Tests.Commands;

public sealed class CacheCommandTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Root => _folder.Combine("cache");

    private async Task AddEntry(char key, int size)
    {
        var cache = new ArtifactCache(Root);
        using var _ = await cache.GetOrCreateAsync(new string(key, 64), (dir, ct) =>
        {
            File.WriteAllBytes(Path.Combine(dir, "model.onnx"), new byte[size]);
            return Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string> { ["model"] = "m.onnx" });
        });
    }

    [Fact]
    public async Task ListPruneAndClearWorkOnTheSelectedFolder()
    {
        await AddEntry('1', 4000);
        await Task.Delay(50);
        await AddEntry('2', 4000);

        var list = InProcessTool.Run("cache", "list", "--cache-dir", Root, "--json").Line("cache");
        Assert.Equal(Root, list.GetProperty("path").GetString());
        Assert.Equal(new[] { new string('2', 64), new string('1', 64) },
            list.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("key").GetString()));
        Assert.Contains("2 entries", InProcessTool.Run("cache", "list", "--cache-dir", Root).Output);

        var prune = InProcessTool.Run("cache", "prune", "--cache-dir", Root, "--cache-size-limit", "5000", "--json").Line("cache");
        Assert.Equal(1, prune.GetProperty("removedEntries").GetInt32());
        Assert.Equal(new string('2', 64), Assert.Single(new ArtifactCache(Root).List()).Key);

        var clear = InProcessTool.Run("cache", "clear", "--cache-dir", Root);
        Assert.Equal(0, clear.ExitCode);
        Assert.Contains("removed 1 entry", clear.Output);
        Assert.Empty(new ArtifactCache(Root).List());
    }

    [Theory]
    [InlineData("list", "--cache-size-limit", "--cache-lock-timeout")]
    [InlineData("prune", "--cache-size-limit", "--cache-lock-timeout")]
    [InlineData("clear", null, "--cache-size-limit")]
    [InlineData("path", null, "--cache-size-limit")]
    public void EachVerbOffersOnlyTheSettingsItUses(string verb, string? offered, string notOffered)
    {
        var help = InProcessTool.Run("cache", verb, "--help").Output;

        Assert.Contains("--cache-dir", help);
        if (offered is not null)
        {
            Assert.Contains(offered, help);
        }

        Assert.DoesNotContain(notOffered, help);
    }
}
