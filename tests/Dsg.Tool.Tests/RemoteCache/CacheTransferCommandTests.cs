using Dsg.Core;
using Dsg.Tests.Shared;
using Dsg.Tool.Running;

namespace Dsg.Tool.Tests.RemoteCache;

/// <summary><c>cache push|pull</c> and <c>cache list --remote</c> against a real nginx (WebDAV with PROPFIND).</summary>
public sealed class CacheTransferCommandTests : IClassFixture<NginxServer>, IDisposable
{
    private readonly NginxServer _nginx;
    private readonly TempFolder _folder = new();
    private int _productions;

    public CacheTransferCommandTests(NginxServer nginx) => _nginx = nginx;

    public void Dispose() => _folder.Dispose();

    private string Cache(string machine) => _folder.Combine(machine, "cache");

    private QuantizeProducer Producer() => async (job, cancellationToken) =>
    {
        Interlocked.Increment(ref _productions);
        await File.WriteAllTextAsync(Path.Combine(job.Directory, "model.onnx"), $"quantized {job.Options.Samples}", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(job.Directory, "model.report.json"), "{}", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(job.Directory, "model.report.md"), "# report", cancellationToken);
        return new QuantizeProduct(1.0);
    };

    /// <summary>Fills machine <paramref name="machine"/>'s local cache (no remote) and returns the key.</summary>
    private string Produce(string machine, int samples, params string[] extra)
    {
        var run = InProcessTool.Run(
            ["quantize", RepoPaths.Model("resnet_fmnist.onnx"), "--out", _folder.Combine(machine, "out", $"q{samples}.onnx"), "--json", "--cache-dir", Cache(machine),
             "--samples", samples.ToString(System.Globalization.CultureInfo.InvariantCulture), .. extra],
            quantizeProducer: Producer());
        Assert.True(run.ExitCode == 0, run.ToString());
        return run.Line("result").GetProperty("cacheKey").GetString()!;
    }

    private static ToolRun Cache(params string[] args) => InProcessTool.Run(["cache", .. args]);

    private static Dictionary<string, string> Outcomes(ToolRun run) =>
        run.Line("cache").GetProperty("entries").EnumerateArray().ToDictionary(e => e.GetProperty("key").GetString()!, e => e.GetProperty("outcome").GetString()!);

    [Fact]
    public void PushAllSeedsTheRemoteListRemoteShowsItAndPullByPrefixFetchesItForALocalHit()
    {
        var (url, onDisk) = _nginx.NewFolder();
        var first = Produce("a", 8);
        var second = Produce("a", 9);

        var push = Cache("push", "--all", "--cache-dir", Cache("a"), "--remote-cache", url, "--json");
        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Equal(new Dictionary<string, string> { [first] = "copied", [second] = "copied" }, Outcomes(push));
        Assert.Equal(new[] { first, second }.Order(StringComparer.Ordinal), NginxServer.FilesIn(onDisk));

        var again = Cache("push", first, "--cache-dir", Cache("a"), "--remote-cache", url, "--json");
        Assert.Equal("present", Outcomes(again)[first]);

        var list = Cache("list", "--remote", "--remote-cache", url, "--json");
        Assert.True(list.ExitCode == 0, list.ToString());
        var entries = list.Line("cache").GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(new[] { first, second }.Order(StringComparer.Ordinal), entries.Select(e => e.GetProperty("key").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(entries, e => Assert.True(e.GetProperty("sizeBytes").GetInt64() > 0));
        Assert.Equal(url, list.Line("cache").GetProperty("remote").GetString());
        var human = Cache("list", "--remote", "--remote-cache", url);
        Assert.Contains(first[..16], human.Output);
        Assert.Contains("2 entries", human.Output);

        var pull = Cache("pull", first[..12], "--cache-dir", Cache("b"), "--remote-cache", url, "--json");
        Assert.True(pull.ExitCode == 0, pull.ToString());
        Assert.Equal("copied", Outcomes(pull)[first]);
        Assert.Equal("present", Outcomes(Cache("pull", first, "--cache-dir", Cache("b"), "--remote-cache", url, "--json"))[first]);

        // Machine b builds offline from what it pulled: a local hit, nothing produced.
        int before = _productions;
        var run = InProcessTool.Run(
            ["quantize", RepoPaths.Model("resnet_fmnist.onnx"), "--out", _folder.Combine("b", "q.onnx"), "--json", "--cache-dir", Cache("b"), "--samples", "8"],
            quantizeProducer: Producer());
        Assert.True(run.Line("result").GetProperty("cacheHit").GetBoolean());
        Assert.Equal(before, _productions);
    }

    [Fact]
    public void PullAllFetchesEveryListedEntry()
    {
        var (url, _) = _nginx.NewFolder();
        var keys = new[] { Produce("a", 8), Produce("a", 10) };
        Assert.Equal(0, Cache("push", "--all", "--cache-dir", Cache("a"), "--remote-cache", url).ExitCode);

        var pull = Cache("pull", "--all", "--cache-dir", Cache("b"), "--remote-cache", url);

        Assert.True(pull.ExitCode == 0, pull.ToString());
        Assert.Contains("pull: downloaded 2, already here 0, failed 0", pull.Output);
        Assert.Equal(keys.Order(StringComparer.Ordinal), Directory.GetDirectories(Cache("b")).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void PullingAKeyTheRemoteLacksOrHoldsCorruptFailsWithDsg0816()
    {
        var (url, onDisk) = _nginx.NewFolder();
        var key = Produce("a", 8);
        Assert.Equal(0, Cache("push", key, "--cache-dir", Cache("a"), "--remote-cache", url).ExitCode);
        File.WriteAllBytes(Path.Combine(onDisk, key), File.ReadAllBytes(Path.Combine(onDisk, key))[..100]);
        var absent = new string('a', 64);

        var pull = Cache("pull", key, absent, "--cache-dir", Cache("b"), "--remote-cache", url, "--json");

        Assert.Equal(1, pull.ExitCode);
        Assert.Equal(ErrorCodes.RemoteCacheTransferIncomplete, pull.Line("error").GetProperty("code").GetString());
        Assert.Equal(new Dictionary<string, string> { [key] = "corrupt", [absent] = "missing" }, Outcomes(pull));
        Assert.Contains(pull.JsonLines, l => l.GetProperty("type").GetString() == "warning" && l.GetProperty("code").GetString() == ErrorCodes.RemoteCacheEntryCorrupt);
        Assert.False(Directory.Exists(Path.Combine(Cache("b"), key)));
    }

    [Fact]
    public void PushNeedsARemoteInReadWriteModeAndKeysOrAll()
    {
        var (url, _) = _nginx.NewFolder();

        var none = Cache("push", "--all", "--cache-dir", Cache("a"), "--json");
        Assert.Equal(ErrorCodes.RemoteCacheNotConfigured, none.Line("error").GetProperty("code").GetString());
        var read = Cache("push", "--all", "--cache-dir", Cache("a"), "--remote-cache", url, "--remote-cache-mode", "read", "--json");
        Assert.Equal(ErrorCodes.RemoteCacheNotConfigured, read.Line("error").GetProperty("code").GetString());
        var neither = Cache("push", "--cache-dir", Cache("a"), "--remote-cache", url, "--json");
        Assert.Equal(ErrorCodes.CommandLineUsage, neither.Line("error").GetProperty("code").GetString());
        var notAKey = Cache("pull", "xyz", "--cache-dir", Cache("a"), "--remote-cache", url, "--json");
        Assert.Equal(ErrorCodes.CommandLineUsage, notAKey.Line("error").GetProperty("code").GetString());
        var listWithoutRemote = Cache("list", "--remote", "--json");
        Assert.Equal(ErrorCodes.RemoteCacheNotConfigured, listWithoutRemote.Line("error").GetProperty("code").GetString());
        Assert.All(new[] { none, read, neither, notAKey, listWithoutRemote }, r => Assert.Equal(1, r.ExitCode));
    }

    [Fact]
    public void PushingAKeyTheLocalCacheLacksFailsAndARemoteThatIsDownIsAnErrorHere()
    {
        var (url, _) = _nginx.NewFolder();
        var key = Produce("a", 8);

        var missing = Cache("push", new string('b', 64), "--cache-dir", Cache("a"), "--remote-cache", url, "--json");
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal(ErrorCodes.RemoteCacheTransferIncomplete, missing.Line("error").GetProperty("code").GetString());

        var down = Cache("push", key, "--cache-dir", Cache("a"), "--remote-cache", "http://127.0.0.1:9/dsg/", "--remote-cache-retries", "0", "--json");
        Assert.Equal(1, down.ExitCode);
        Assert.Equal(ErrorCodes.RemoteCacheUnavailable, down.Line("error").GetProperty("code").GetString());
    }

    [Fact]
    public void ListingAServerWithoutPropfindIsDsg0817AndAFolderNotYetCreatedListsEmpty()
    {
        var (plain, plainDisk) = _nginx.NewFolder("plain");
        Directory.CreateDirectory(plainDisk);
        var unsupported = Cache("list", "--remote", "--remote-cache", plain, "--json");
        Assert.Equal(1, unsupported.ExitCode);
        Assert.Equal(ErrorCodes.RemoteCacheListingUnsupported, unsupported.Line("error").GetProperty("code").GetString());

        var (url, _) = _nginx.NewFolder();
        var empty = Cache("list", "--remote", "--remote-cache", url, "--json");
        Assert.True(empty.ExitCode == 0, empty.ToString());
        Assert.Equal(0, empty.Line("cache").GetProperty("entries").GetArrayLength());
    }
}
