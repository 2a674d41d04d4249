namespace Dsg.Tests.Shared;

/// <summary>Paths inside the repository, found by walking up from the test assembly to DsgBuild.sln.</summary>
internal static class RepoPaths
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DsgBuild.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("DsgBuild.sln not found above " + AppContext.BaseDirectory);
    });

    public static string Root => s_root.Value;

    public static string TestAssets => Path.Combine(Root, "testassets");

    public static string Model(string fileName) => Path.Combine(TestAssets, "models", fileName);

    public static string Data(string fileName) => Path.Combine(TestAssets, "data", fileName);

    /// <summary>Debian's libonnx-testdata node tests.</summary>
    public const string OnnxNodeTests = "/usr/share/libonnx-testdata/data/node";

    /// <summary>Debian's dataset-fashion-mnist.</summary>
    public const string FashionMnist = "/usr/share/datasets/fashion-mnist";
}
