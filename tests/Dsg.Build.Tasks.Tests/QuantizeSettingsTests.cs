using Microsoft.Build.Utilities;

namespace Dsg.Build.Tasks.Tests;

public sealed class QuantizeSettingsTests
{
    private static readonly string s_project = Path.Combine(Path.GetTempPath(), "proj");

    private static (QuantizeSettings Settings, List<KeyValuePair<string, string>> Problems) Read(string include, params (string Name, string Value)[] metadata)
    {
        var item = new TaskItem(include);
        foreach (var (name, value) in metadata)
        {
            item.SetMetadata(name, value);
        }

        var problems = new List<KeyValuePair<string, string>>();
        return (QuantizeSettings.Read(item, s_project, problems), problems);
    }

    [Fact]
    public void EmptyMetadataPassesNothingSoTheToolsOtherSourcesDecide()
    {
        var (s, problems) = Read("Models/net.onnx", ("Precision", ""), ("Method", ""), ("Samples", " "));

        Assert.Empty(problems);
        Assert.Empty(s.ToolOptions());
        Assert.False(s.Embed);
    }

    [Fact]
    public void MetadataOtherTargetsPutOnEveryItemIsNotPassedToTheTool()
    {
        // Passed on, the tool would warn (DSG0908) that Visible or CopyToOutputDirectory is no Dsg setting.
        var (s, _) = Read("net.onnx", ("Visible", "false"), ("CopyToOutputDirectory", "Always"), ("DependentUpon", "x.cs"), ("Precison", "W4A4"));

        Assert.Equal(["Precison=W4A4"], s.ToolMetadata());
    }

    [Fact]
    public void SettingsGoToTheToolUncheckedAndTheTasksOwnMetadataDoNot()
    {
        var (s, problems) = Read("net.onnx",
            ("Samples", "lots"), ("Precision", "W4A8"), ("Without", "sci,class"), ("OutputName", "q.onnx"), ("Embed", "true"),
            ("LogicalName", "x"), ("OutputPath", "/obj/q.onnx"), ("NormalizedOptions", "a;b"), ("ConfigFile", "ci/dsg.json"));

        Assert.Empty(problems);
        Assert.Equal(
            [
                new("--config", Path.GetFullPath(Path.Combine(s_project, "ci/dsg.json"))),
                new("--msbuild-metadata", "Precision=W4A8"),
                new("--msbuild-metadata", "Samples=lots"),
                new("--msbuild-metadata", "Without=sci,class"),
            ],
            s.ToolOptions());
    }

    [Theory]
    [InlineData("W4A4", "net.w4a4.onnx")]
    [InlineData("w4a8", "net.w4a8.onnx")]
    [InlineData("W6A6", "net.w6a6.onnx")]
    [InlineData("w8a8", "net.int8.onnx")]
    public void TheResolvedPrecisionChoosesTheOutputSuffix(string precision, string outputName)
    {
        var (s, _) = Read("Models/net.onnx");
        var problems = new List<KeyValuePair<string, string>>();

        var location = s.Locate(s_project, precision, problems);

        Assert.Empty(problems);
        Assert.Equal(outputName, location.OutputName);
        Assert.Equal(Path.Combine("Models", outputName), location.Link);
        Assert.Equal(outputName, location.LogicalName);
    }

    [Fact]
    public void WithoutAResolvedPrecisionTheItemsOwnOrW8A8NamesTheOutput()
    {
        var problems = new List<KeyValuePair<string, string>>();

        Assert.Equal("net.int8.onnx", Read("net.onnx").Settings.Locate(s_project, null, problems).OutputName);
        Assert.Equal("net.w4a4.onnx", Read("net.onnx", ("Precision", "W4A4")).Settings.Locate(s_project, null, problems).OutputName);
        Assert.Empty(problems);
    }

    [Theory]
    [InlineData("Embed", "yes", "true or false")]
    [InlineData("OutputName", "../x.onnx", "without '..'")]
    public void BadTaskMetadataIsReportedWithTheAllowedValues(string name, string value, string expected)
    {
        var (s, problems) = Read("net.onnx", (name, value));
        s.Locate(s_project, "W8A8", problems);

        var problem = Assert.Single(problems);
        Assert.Equal(name, problem.Key);
        Assert.Contains($"{name}=\"{value}\" is not valid", problem.Value, StringComparison.Ordinal);
        Assert.Contains(expected, problem.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelOutsideTheProjectGoesToTheRootOfTheOutputFolder()
    {
        var (s, _) = Read("../models/net.onnx", ("OutputName", "q/net-small.onnx"), ("Embed", "true"));

        var location = s.Locate(s_project, "W8A8", []);

        Assert.Equal(Path.Combine("q", "net-small.onnx"), location.Link.Replace('/', Path.DirectorySeparatorChar));
        Assert.Equal("net-small.onnx", location.LogicalName);
        Assert.True(s.Embed);
    }

    [Fact]
    public void ArgumentsWithSpacesAndQuotesSurviveTheCommandLine()
    {
        Assert.Equal("config show \"/a b/m.onnx\" \"x=\\\"y\\\"\" \"\"", ToolProcess.Join(["config", "show", "/a b/m.onnx", "x=\"y\"", ""]));
    }
}
