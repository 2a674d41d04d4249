using Dsg.Tests.Shared;

namespace Dsg.Build.Tasks.Tests.Integration;

/// <summary>
/// A copy of testassets/SampleApp (and the model it quantizes) in its own folder, as a fresh clone would have it,
/// built with the packed Dsg.Build against a given tool.
/// </summary>
internal sealed class SampleAppCopy
{
    private readonly PackedFeedFixture _feed;
    private readonly string _toolPath;

    private SampleAppCopy(PackedFeedFixture feed, string folder, string toolPath, string cacheDir)
    {
        _feed = feed;
        _toolPath = toolPath;
        Folder = folder;
        CacheDir = cacheDir;
    }

    public string Folder { get; }

    public string ProjectDir => Path.Combine(Folder, "SampleApp");

    public string ProjectFile => Path.Combine(ProjectDir, "SampleApp.csproj");

    public string ModelPath => Path.Combine(Folder, "models", "resnet_fmnist.onnx");

    public string CacheDir { get; }

    public string BinDir => Path.Combine(ProjectDir, "bin", "Debug", "net10.0");

    public string ObjDsgDir => Path.Combine(ProjectDir, "obj", "Debug", "net10.0", "dsg");

    public string PublishDir => Path.Combine(Folder, "publish");

    /// <summary>Copies the sample into <c>ROOT/name</c>; the cache goes to <c>ROOT/name/cache</c> unless given.</summary>
    public static SampleAppCopy Create(PackedFeedFixture feed, string name, string toolPath, string? cacheDir = null)
    {
        string folder = Path.Combine(feed.Root, name);
        string source = Path.Combine(RepoPaths.TestAssets, "SampleApp");
        Directory.CreateDirectory(Path.Combine(folder, "SampleApp"));
        foreach (string file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(folder, "SampleApp", Path.GetFileName(file)));
        }

        Directory.CreateDirectory(Path.Combine(folder, "models"));
        File.Copy(RepoPaths.Model("resnet_fmnist.onnx"), Path.Combine(folder, "models", "resnet_fmnist.onnx"));
        return new SampleAppCopy(feed, folder, toolPath, cacheDir ?? Path.Combine(folder, "cache"));
    }

    /// <summary>Rewrites the project file, as a developer editing DsgQuantize metadata would.</summary>
    public void EditProject(string oldText, string newText)
    {
        string text = File.ReadAllText(ProjectFile);
        Assert.Contains(oldText, text, StringComparison.Ordinal);
        File.WriteAllText(ProjectFile, text.Replace(oldText, newText, StringComparison.Ordinal));
    }

    public CliResult Build(params string[] extra) => Dotnet("build", extra);

    /// <summary>A build with extra environment variables (DSG_* reach the tool through MSBuild's environment).</summary>
    public CliResult BuildWith(IReadOnlyDictionary<string, string> variables) => Dotnet("build", [], variables);

    public CliResult Publish(params string[] extra) => Dotnet("publish", ["-o", PublishDir, .. extra]);

    public CliResult Clean(params string[] extra) => Dotnet("clean", extra);

    /// <summary>Runs the built app from bin/ with <paramref name="arguments"/>.</summary>
    public CliResult Run(params string[] arguments) =>
        DotnetCli.Run(Folder, [Path.Combine(BinDir, "SampleApp.dll"), .. arguments]);

    private CliResult Dotnet(string verb, string[] extra, IReadOnlyDictionary<string, string>? variables = null) =>
        DotnetCli.Start(DotnetCli.Host, Folder, variables,
        [
            verb, ProjectFile, "-nr:false", "-tl:off",
            "-p:DsgLocalFeed=" + _feed.Feed,
            "-p:DsgBuildVersion=" + _feed.Version,
            "-p:DsgToolPath=" + _toolPath,
            "-p:DsgCacheDir=" + CacheDir,
            .. extra,
        ]);
}
