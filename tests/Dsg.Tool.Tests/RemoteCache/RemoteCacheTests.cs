using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Dsg.Core;
using Dsg.Core.Caching;
using Dsg.Tests.Shared;
using Dsg.Tool.Running;

namespace Dsg.Tool.Tests.RemoteCache;

/// <summary>
/// quantize with a remote cache against a real nginx (WebDAV), one "machine" per local cache folder, with a recording
/// producer in place of the pipeline (fast). The real pipeline against nginx runs in <see cref="RemoteCacheProcessTests"/>.
/// </summary>
public sealed class RemoteCacheTests : IClassFixture<NginxServer>, IDisposable
{
    private readonly NginxServer _nginx;
    private readonly TempFolder _folder = new();
    private int _productions;

    public RemoteCacheTests(NginxServer nginx) => _nginx = nginx;

    public void Dispose() => _folder.Dispose();

    /// <summary>A producer that writes a small entry whose model bytes depend on the settings.</summary>
    private QuantizeProducer Producer(Barrier? meet = null) => async (job, cancellationToken) =>
    {
        Interlocked.Increment(ref _productions);
        job.Reporter.PhaseStarted("generate");
        meet?.SignalAndWait(TimeSpan.FromSeconds(30), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(job.Directory, "model.onnx"), $"quantized {job.Options.Precision} {job.Options.Samples}", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(job.Directory, "model.report.json"), "{}", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(job.Directory, "model.report.md"), "# report", cancellationToken);
        job.Reporter.PhaseDone("generate", 0.01);
        return new QuantizeProduct(0.97);
    };

    /// <summary>quantize on "machine" <paramref name="machine"/> (its own local cache and output folder).</summary>
    /// <remarks><paramref name="samples"/> is in the cache key: other samples, another entry.</remarks>
    private ToolRun Quantize(string machine, string? remote, string[]? extra = null, IReadOnlyDictionary<string, string>? environment = null,
        QuantizeProducer? producer = null, int samples = 8)
    {
        string[] remoteArgs = remote is null ? [] : ["--remote-cache", remote];
        return InProcessTool.Run(
            ["quantize", RepoPaths.Model("resnet_fmnist.onnx"), "--out", Output(machine), "--json", "--cache-dir", _folder.Combine(machine, "cache"),
             "--samples", samples.ToString(System.Globalization.CultureInfo.InvariantCulture), .. remoteArgs, .. extra ?? []],
            environment, quantizeProducer: producer ?? Producer());
    }

    private string Output(string machine) => _folder.Combine(machine, "out", "resnet.q.onnx");

    private static IReadOnlyList<string> Warnings(ToolRun run, string code) =>
        run.JsonLines.Where(l => l.GetProperty("type").GetString() == "warning" && l.GetProperty("code").GetString() == code)
            .Select(l => l.GetProperty("message").GetString()!).ToList();

    private static IReadOnlyList<string> AllWarningCodes(ToolRun run) =>
        run.JsonLines.Where(l => l.GetProperty("type").GetString() == "warning").Select(l => l.GetProperty("code").GetString()!).ToList();

    private static string Key(ToolRun run) => run.Line("result").GetProperty("cacheKey").GetString()!;

    private static bool Flag(ToolRun run, string name) => run.Line("result").GetProperty(name).GetBoolean();

    /// <summary>Downloads the remote's entry into a fresh cache and checks it against its hashes, as a build would.</summary>
    private static CacheManifest VerifiedRemoteEntry(string folderOnDisk, string key)
    {
        using var input = File.OpenRead(Path.Combine(folderOnDisk, key));
        var target = Directory.CreateTempSubdirectory("dsg-verify-");
        try
        {
            return EntryArchive.Extract(input, key, target.FullName, 1 << 30);
        }
        finally
        {
            target.Delete(recursive: true);
        }
    }

    [Fact]
    public void AMissIsProducedStoredAndUploadedAndAnotherMachineGetsARemoteHitWithoutProducing()
    {
        var (url, onDisk) = _nginx.NewFolder();

        var first = Quantize("a", url);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.False(Flag(first, "cacheHit"));
        Assert.True(Flag(first, "uploaded"));
        Assert.Empty(AllWarningCodes(first));
        var key = Key(first);
        // One entry, named by its key; the temporary upload name is gone (it was moved onto the key).
        Assert.Equal([key], NginxServer.FilesIn(onDisk));
        Assert.Equal(3, VerifiedRemoteEntry(onDisk, key).Files.Count);
        var path = new Uri(url).AbsolutePath;
        Assert.Contains(_nginx.Requests, r => r.StartsWith($"PUT {path}.{key}.", StringComparison.Ordinal) && r.EndsWith(".tmp 201", StringComparison.Ordinal));
        Assert.Contains(_nginx.Requests, r => r.StartsWith($"MOVE {path}.{key}.", StringComparison.Ordinal) && r.EndsWith(" 204", StringComparison.Ordinal));

        var second = Quantize("b", url);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.True(Flag(second, "cacheHit"));
        Assert.True(Flag(second, "remoteHit"));
        Assert.False(Flag(second, "uploaded"));
        Assert.Equal(key, Key(second));
        Assert.Equal(1, _productions);
        Assert.DoesNotContain(second.JsonLines, l => l.GetProperty("type").GetString() == "phase");
        Assert.Equal(File.ReadAllBytes(Output("a")), File.ReadAllBytes(Output("b")));
        Assert.Equal(File.ReadAllText(Output("a").Replace(".onnx", ".report.md", StringComparison.Ordinal)),
            File.ReadAllText(Output("b").Replace(".onnx", ".report.md", StringComparison.Ordinal)));

        // Machine b now has the entry locally: a local hit that asks the remote nothing.
        int requests = _nginx.Requests.Count;
        var third = Quantize("b", url);
        Assert.True(Flag(third, "cacheHit"));
        Assert.False(Flag(third, "remoteHit"));
        Assert.Equal(requests, _nginx.Requests.Count);
    }

    [Fact]
    public void TheHumanResultLineSaysRemoteHit()
    {
        var (url, _) = _nginx.NewFolder();
        Assert.Equal(0, Quantize("a", url).ExitCode);

        var run = InProcessTool.Run(
            ["quantize", RepoPaths.Model("resnet_fmnist.onnx"), "--out", Output("b"), "--cache-dir", _folder.Combine("b", "cache"), "--samples", "8", "--remote-cache", url],
            quantizeProducer: Producer());

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Matches(@"done in [0-9.]+ s \(remote hit [0-9a-f]{12}, ", run.Output);
    }

    [Fact]
    public void ReadModeDownloadsButNeverUploads()
    {
        var (url, onDisk) = _nginx.NewFolder();

        var miss = Quantize("a", url, ["--remote-cache-mode", "read"]);
        Assert.True(miss.ExitCode == 0, miss.ToString());
        Assert.False(Flag(miss, "uploaded"));
        Assert.Empty(NginxServer.FilesIn(onDisk));
        Assert.DoesNotContain(_nginx.Requests, r => r.Contains(new Uri(url).AbsolutePath, StringComparison.Ordinal) && (r.StartsWith("PUT ", StringComparison.Ordinal) || r.StartsWith("MOVE ", StringComparison.Ordinal)));

        Assert.True(Flag(Quantize("seed", url), "uploaded"));
        var hit = Quantize("b", url, ["--remote-cache-mode", "read"]);
        Assert.True(Flag(hit, "remoteHit"));
        Assert.Equal(2, _productions);
    }

    [Fact]
    public void ModeAndUrlComeFromTheEnvironmentToo()
    {
        var (url, onDisk) = _nginx.NewFolder();
        var run = Quantize("a", remote: null, environment: new Dictionary<string, string> { ["DSG_REMOTE_CACHE"] = url, ["DSG_REMOTE_CACHE_MODE"] = "read" });

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(NginxServer.FilesIn(onDisk));
        Assert.Contains(_nginx.Requests, r => r.StartsWith("GET " + new Uri(url).AbsolutePath, StringComparison.Ordinal) && r.EndsWith(" 404", StringComparison.Ordinal));
    }

    [Fact]
    public void AServerThatRequiresAuthorizationGets401WithoutTheHeaderAndTheBuildGoesOn()
    {
        var (url, onDisk) = _nginx.NewFolder("auth");

        var anonymous = Quantize("a", url);
        Assert.True(anonymous.ExitCode == 0, anonymous.ToString());
        var refused = Assert.Single(Warnings(anonymous, ErrorCodes.RemoteCacheUnauthorized));
        Assert.Contains("401", refused);
        Assert.Contains("no Authorization header was sent", refused);
        Assert.Single(AllWarningCodes(anonymous)); // warned once, although the upload was skipped too
        Assert.Empty(NginxServer.FilesIn(onDisk));
        Assert.Contains(_nginx.Requests, r => r.StartsWith("GET " + new Uri(url).AbsolutePath, StringComparison.Ordinal) && r.EndsWith(" 401", StringComparison.Ordinal));
    }

    [Fact]
    public void TheAuthorizationHeaderComesFromTheNamedVariableAndIsNeverPrinted()
    {
        var (url, onDisk) = _nginx.NewFolder("auth");
        var environment = new Dictionary<string, string> { ["CI_CACHE_AUTH"] = NginxServer.Authorization };
        string[] auth = ["--remote-cache-auth-variable", "CI_CACHE_AUTH", "--verbose"];

        var first = Quantize("a", url, auth, environment);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Empty(AllWarningCodes(first));
        Assert.True(Flag(first, "uploaded"));
        Assert.Equal([Key(first)], NginxServer.FilesIn(onDisk));
        var second = Quantize("b", url, auth, environment);
        Assert.True(Flag(second, "remoteHit"));

        var config = InProcessTool.Run(["config", "show", "--remote-cache", url, "--remote-cache-auth-variable", "CI_CACHE_AUTH"], environment);
        Assert.Contains("CI_CACHE_AUTH", config.Output);
        foreach (var run in new[] { first, second, config })
        {
            Assert.DoesNotContain("s3cret", run.Output + run.Error, StringComparison.Ordinal);
            Assert.DoesNotContain(NginxServer.Authorization.Split(' ')[1], run.Output + run.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AnAuthVariableThatIsNotSetIsAWarningAndRequestsGoWithoutTheHeader()
    {
        var (url, _) = _nginx.NewFolder("auth");

        var run = Quantize("a", url, ["--remote-cache-auth-variable", "CI_CACHE_AUTH_MISSING"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("CI_CACHE_AUTH_MISSING", Assert.Single(Warnings(run, ErrorCodes.RemoteCacheAuthVariableMissing)));
        Assert.Single(Warnings(run, ErrorCodes.RemoteCacheUnauthorized));
        Assert.True(File.Exists(Output("a")));
    }

    [Fact]
    public void AServerThatIsDownIsOneWarningAndTheBuildGoesOnLocally()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var run = Quantize("a", $"http://127.0.0.1:{port}/dsg/", ["--remote-cache-retries", "1"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var warning = Assert.Single(Warnings(run, ErrorCodes.RemoteCacheUnavailable));
        Assert.Contains("2 attempts", warning);
        Assert.Single(AllWarningCodes(run)); // not again for the upload
        Assert.False(Flag(run, "uploaded"));
        Assert.Equal(1, _productions);
        Assert.True(File.Exists(Output("a")));
    }

    [Fact]
    public async Task AServerThatAcceptsButNeverAnswersTimesOutAndTheBuildGoesOn()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var held = new List<TcpClient>();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    held.Add(await listener.AcceptTcpClientAsync(stop.Token));
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = Quantize("a", $"http://127.0.0.1:{port}/dsg/", ["--remote-cache-timeout", "1", "--remote-cache-retries", "1"]);
        var elapsed = clock.Elapsed;
        await stop.CancelAsync();
        await accepting;
        foreach (var client in held)
        {
            client.Dispose();
        }

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("made no progress for 1 s", Assert.Single(Warnings(run, ErrorCodes.RemoteCacheUnavailable)));
        Assert.True(File.Exists(Output("a")));
        Assert.True(elapsed < TimeSpan.FromSeconds(20), $"took {elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>
    /// Ways a served entry can be wrong: cut short, a flipped byte (gzip's CRC may catch it first), an error page, a
    /// sound archive of another key, nothing, and a well-formed archive whose model was altered after its manifest was
    /// written (only the SHA-256 catches that).
    /// </summary>
    public static TheoryData<string> Corruptions => ["truncated", "flipped", "garbage", "other-key", "empty", "repacked"];

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void ACorruptOrTruncatedRemoteEntryIsDiscardedProducedLocallyAndReplaced(string corruption)
    {
        var (url, onDisk) = _nginx.NewFolder();
        var seed = Quantize("seed", url);
        var key = Key(seed);
        var path = Path.Combine(onDisk, key);
        var good = File.ReadAllBytes(path);
        var bad = corruption switch
        {
            "truncated" => good[..(good.Length / 2)],
            "flipped" => Flip(good),
            "garbage" => Encoding.ASCII.GetBytes("<html>502 Bad Gateway</html>"),
            "other-key" => OtherKeysArchive(onDisk, url),
            "repacked" => WithAlteredModel(good),
            _ => [],
        };
        File.WriteAllBytes(path, bad);

        var run = Quantize("b", url);

        Assert.True(run.ExitCode == 0, run.ToString());
        var warning = Assert.Single(Warnings(run, ErrorCodes.RemoteCacheEntryCorrupt));
        Assert.Contains(key, warning);
        Assert.False(Flag(run, "remoteHit"));
        Assert.Equal(2, _productions);
        Assert.Equal(File.ReadAllBytes(Output("seed")), File.ReadAllBytes(Output("b")));
        // The corrupt archive was replaced by the good one this run produced.
        Assert.True(Flag(run, "uploaded"));
        Assert.Equal(3, VerifiedRemoteEntry(onDisk, key).Files.Count);
        Assert.True(Flag(Quantize("c", url), "remoteHit"));
        Assert.Equal([key], NginxServer.FilesIn(onDisk));
    }

    [Fact]
    public void ReadModeDiscardsACorruptEntryButLeavesItOnTheRemote()
    {
        var (url, onDisk) = _nginx.NewFolder();
        var key = Key(Quantize("seed", url));
        var path = Path.Combine(onDisk, key);
        var bad = Flip(File.ReadAllBytes(path));
        File.WriteAllBytes(path, bad);

        var run = Quantize("b", url, ["--remote-cache-mode", "read"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Single(Warnings(run, ErrorCodes.RemoteCacheEntryCorrupt));
        Assert.Equal(bad, File.ReadAllBytes(path));
        Assert.Equal(File.ReadAllBytes(Output("seed")), File.ReadAllBytes(Output("b")));
    }

    [Fact]
    public void AServerThatRefusesUploadsIsOneWarningAndReadsGoOn()
    {
        var (url, onDisk) = _nginx.NewFolder("readonly");

        var run = Quantize("a", url);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("405", Assert.Single(Warnings(run, ErrorCodes.RemoteCacheUploadFailed)));
        Assert.False(Flag(run, "uploaded"));
        Assert.Empty(NginxServer.FilesIn(onDisk));

        // Served by hand (a read-only mirror): a hit from it.
        Directory.CreateDirectory(onDisk);
        var (seedUrl, seedDisk) = _nginx.NewFolder();
        var key = Key(Quantize("seed", seedUrl, samples: 9));
        File.Copy(Path.Combine(seedDisk, key), Path.Combine(onDisk, key));
        Assert.True(Flag(Quantize("b", url, samples: 9), "remoteHit"));
    }

    [Fact]
    public async Task TwoMachinesRacingToUploadOneKeyBothSucceedAndTheRemoteHoldsOneWholeEntry()
    {
        var (url, onDisk) = _nginx.NewFolder();
        // Both miss the remote and produce before either uploads: the second MOVE finds the key taken (412) and keeps it.
        using var meet = new Barrier(2);
        var runs = await Task.WhenAll(
            Task.Run(() => Quantize("a", url, producer: Producer(meet))),
            Task.Run(() => Quantize("b", url, producer: Producer(meet))));

        foreach (var run in runs)
        {
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Empty(AllWarningCodes(run));
        }

        Assert.Equal(2, _productions);
        Assert.Single(runs, r => Flag(r, "uploaded"));
        var key = Key(runs[0]);
        Assert.Equal([key], NginxServer.FilesIn(onDisk)); // no temporary names left behind
        Assert.Equal(3, VerifiedRemoteEntry(onDisk, key).Files.Count);
        Assert.Contains(_nginx.Requests, r => r.StartsWith("MOVE " + new Uri(url).AbsolutePath, StringComparison.Ordinal) && r.EndsWith(" 412", StringComparison.Ordinal));
    }

    private static byte[] Flip(byte[] bytes)
    {
        var copy = (byte[])bytes.Clone();
        copy[copy.Length / 2] ^= 0x5A;
        return copy;
    }

    /// <summary>The same archive, re-packed as valid gzip and tar, with one byte of model.onnx changed and the manifest kept.</summary>
    private static byte[] WithAlteredModel(byte[] archive)
    {
        using var output = new MemoryStream();
        using (var reader = new TarReader(new GZipStream(new MemoryStream(archive), CompressionMode.Decompress)))
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            while (reader.GetNextEntry(copyData: true) is { } entry)
            {
                var content = new MemoryStream();
                entry.DataStream?.CopyTo(content);
                var bytes = content.ToArray();
                if (entry.Name == "model.onnx")
                {
                    bytes[0] ^= 1;
                }

                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, entry.Name) { DataStream = new MemoryStream(bytes) });
            }
        }

        return output.ToArray();
    }

    /// <summary>A sound archive of another key (other settings), served under this key's name.</summary>
    private byte[] OtherKeysArchive(string onDisk, string url)
    {
        var other = Key(Quantize("other", url, samples: 7));
        var bytes = File.ReadAllBytes(Path.Combine(onDisk, other));
        File.Delete(Path.Combine(onDisk, other));
        Interlocked.Decrement(ref _productions);
        return bytes;
    }
}
