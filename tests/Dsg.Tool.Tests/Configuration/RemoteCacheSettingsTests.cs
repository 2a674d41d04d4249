using Dsg.Core;
using Dsg.Core.Caching;
using Dsg.Tests.Shared;
using Dsg.Tool.Commands;
using Dsg.Tool.Configuration;
using Dsg.Tool.Running;
using Microsoft.Extensions.Configuration;

namespace Dsg.Tool.Tests.Configuration;

/// <summary>The remote cache's settings: one definition each in the catalog, every bad value a coded error, none in the cache key.</summary>
public sealed class RemoteCacheSettingsTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private ResolvedOptions Resolve(Dictionary<string, string>? commandLine = null, params (string Name, string Value)[] variables) =>
        OptionsResolver.Resolve(commandLine ?? [], null, _folder.Combine("m.onnx"),
            new ConfigurationBuilder().AddInMemoryCollection(variables.Select(v => new KeyValuePair<string, string?>(v.Name["DSG_".Length..], v.Value))).Build(),
            _folder.Path);

    [Fact]
    public void EachSettingHasItsFlagConfigKeyAndVariable()
    {
        Assert.Equal(
            ["--remote-cache", "--remote-cache-mode", "--remote-cache-auth-variable", "--remote-cache-timeout", "--remote-cache-retries"],
            OptionCatalog.Remote.Select(d => d.Flag));
        Assert.Equal(["remoteCache", "remoteCacheMode", "remoteCacheAuthVariable", "remoteCacheTimeout", "remoteCacheRetries"], OptionCatalog.Remote.Select(d => d.ConfigKey));
        Assert.Equal(["DSG_REMOTE_CACHE", "DSG_REMOTE_CACHE_MODE", "DSG_REMOTE_CACHE_AUTH_VARIABLE", "DSG_REMOTE_CACHE_TIMEOUT", "DSG_REMOTE_CACHE_RETRIES"],
            OptionCatalog.Remote.Select(d => d.EnvironmentVariable));
        Assert.All(OptionCatalog.Remote, d => Assert.False(d.AffectsOutput));
        Assert.Equal("readwrite", OptionCatalog.RemoteCacheMode.DefaultText);
        Assert.Equal("read, readwrite", OptionCatalog.RemoteCacheMode.Allowed);
        Assert.Null(OptionCatalog.RemoteCache.DefaultText);
    }

    [Fact]
    public void TheUrlIsNormalisedToAFolderAndTheModeParsesInAnyCase()
    {
        var options = Resolve(new() { ["RemoteCache"] = "http://cache.example:8080/dsg", ["RemoteCacheMode"] = "READ" }).Options;
        Assert.Equal("http://cache.example:8080/dsg/", options.RemoteCache);
        Assert.Equal(RemoteCacheMode.Read, options.RemoteCacheMode);

        var fromEnvironment = Resolve(null, ("DSG_REMOTE_CACHE", "https://cache.example/"), ("DSG_REMOTE_CACHE_RETRIES", "0"));
        Assert.Equal("https://cache.example/", fromEnvironment.Options.RemoteCache);
        Assert.Equal(0, fromEnvironment.Options.RemoteCacheRetries);
        Assert.Equal("DSG_REMOTE_CACHE", fromEnvironment.Sources["RemoteCache"]);

        _folder.Write("dsg.json", """{ "remoteCache": "http://10.0.0.5/cache/dsg/", "remoteCacheAuthVariable": "CACHE_TOKEN" }""");
        var fromFile = Resolve().Options;
        Assert.Equal("http://10.0.0.5/cache/dsg/", fromFile.RemoteCache);
        Assert.Equal("CACHE_TOKEN", fromFile.RemoteCacheAuthVariable);
    }

    [Theory]
    [InlineData("RemoteCache", "cache.example/dsg")]
    [InlineData("RemoteCache", "ftp://cache.example/dsg/")]
    [InlineData("RemoteCache", "https://ci:s3cret@cache.example/dsg/")]
    [InlineData("RemoteCache", "https://cache.example/dsg/?token=abc")]
    [InlineData("RemoteCacheMode", "write")]
    [InlineData("RemoteCacheAuthVariable", "Bearer abc")]
    [InlineData("RemoteCacheAuthVariable", "1TOKEN")]
    [InlineData("RemoteCacheTimeout", "0")]
    [InlineData("RemoteCacheRetries", "11")]
    public void ABadValueIsDsg0301NamingTheFlagAndWhatIsAllowed(string name, string value)
    {
        var definition = OptionCatalog.FindByName(name)!;

        var error = Assert.Throws<DsgException>(() => Resolve(new() { [name] = value }));

        Assert.Equal(ErrorCodes.BadOption, error.Code);
        Assert.Contains(definition.Flag, error.Message);
        Assert.Contains(definition.Allowed, error.Hint);
    }

    [Fact]
    public void ABadValueInAVariableOrDsgJsonNamesItsSource()
    {
        var fromVariable = Assert.Throws<DsgException>(() => Resolve(null, ("DSG_REMOTE_CACHE_MODE", "sometimes")));
        Assert.Equal(ErrorCodes.BadOption, fromVariable.Code);
        Assert.Contains("DSG_REMOTE_CACHE_MODE", fromVariable.Message);

        var file = _folder.Write("dsg.json", """{ "remoteCache": "not a url" }""");
        var fromFile = Assert.Throws<DsgException>(() => Resolve());
        Assert.Equal(ErrorCodes.BadConfiguration, fromFile.Code);
        Assert.Equal(file, fromFile.FilePath);
    }

    [Fact]
    public void TheCommandLineRejectsABadUrlBeforeAnyWork()
    {
        var run = InProcessTool.Run(["quantize", RepoPaths.Model("resnet_fmnist.onnx"), "--out", _folder.Combine("q.onnx"), "--json",
            "--cache-dir", _folder.Combine("cache"), "--remote-cache", "ftp://nowhere/"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(ErrorCodes.BadOption, run.Line("error").GetProperty("code").GetString());
        Assert.False(Directory.Exists(_folder.Combine("cache")));
    }

    [Fact]
    public void RemoteSettingsAreNotInTheCacheKeyNorTheBuildInputs()
    {
        var content = ModelContent.Read(RepoPaths.Model("tiny_cnn.onnx"), Dsg.Core.Onnx.ModelLimits.Default);
        var plain = DsgOptions.Default;
        var remote = plain with
        {
            RemoteCache = "http://cache.example/dsg/", RemoteCacheMode = RemoteCacheMode.Read, RemoteCacheAuthVariable = "TOKEN",
            RemoteCacheTimeout = 5, RemoteCacheRetries = 0,
        };

        Assert.Equal(content.CacheKey(plain, "1.0.0"), content.CacheKey(remote, "1.0.0"));
        Assert.Equal(ConfigCommand.BuildInputs(plain), ConfigCommand.BuildInputs(remote));
    }

    [Fact]
    public void EveryRemoteSettingIsAnMsBuildPropertyTheTargetsPassToTheTaskAndMsBuildMdLists()
    {
        var props = File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "Dsg.Build.Tasks", "build", "Dsg.Build.props"));
        var targets = File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "Dsg.Build.Tasks", "build", "Dsg.Build.targets"));
        var docs = File.ReadAllLines(Path.Combine(RepoPaths.Root, "docs", "msbuild.md"));
        Assert.Subset(OptionCatalog.MsBuildProperties.ToHashSet(), OptionCatalog.Remote.ToHashSet());
        foreach (var definition in OptionCatalog.MsBuildProperties)
        {
            Assert.Contains($"<Dsg{definition.Name} Condition=\"'$(Dsg{definition.Name})' == ''\">", props);
            Assert.Contains($"{definition.Name}=\"$(Dsg{definition.Name})\"", targets);
            var row = Assert.Single(docs, l => l.StartsWith($"| `Dsg{definition.Name}` |", StringComparison.Ordinal));
            Assert.Contains($"`{definition.Flag}`", row);
        }
    }

    [Fact]
    public void MessagesAnMsBuildBuildShowsNameThePropertyOfAProjectWideSetting()
    {
        Assert.Equal("Check --remote-cache (MSBuild: DsgRemoteCache) and --samples (MSBuild: Samples).",
            OptionCatalog.WithMetadataNames("Check --remote-cache and --samples."));
    }
}
