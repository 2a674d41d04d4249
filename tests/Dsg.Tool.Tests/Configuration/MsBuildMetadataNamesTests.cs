using Dsg.Core;
using Dsg.Tool.Configuration;

namespace Dsg.Tool.Tests.Configuration;

/// <summary>Issue 13: an unknown DsgQuantize metadata name (a typo such as Precison) is a DSG0908 warning naming the nearest known name.</summary>
public sealed class MsBuildMetadataNamesTests
{
    [Theory]
    [InlineData("Precison", "Precision")]
    [InlineData("precision2", "Precision")]
    [InlineData("Sampels", "Samples")]
    [InlineData("BatchSzie", "BatchSize")]
    [InlineData("OutputNam", "OutputName")]
    [InlineData("MaxNode", "MaxNodes")]
    [InlineData("Embedd", "Embed")]
    public void ATypoGetsTheNearestName(string typo, string expected)
    {
        var (name, suggestion) = Assert.Single(MsBuildMetadataNames.Check([typo]));

        Assert.Equal(typo, name);
        Assert.Equal(expected, suggestion);
    }

    [Fact]
    public void KnownNamesInAnyCaseAndTheTasksOwnAreNotWarned()
    {
        Assert.Empty(MsBuildMetadataNames.Check(["Precision", "samples", "CONFIGFILE", "OutputName", "Embed", "LogicalName", "MaxModelSize"]));
    }

    [Fact]
    public void ANameFarFromEveryKnownOneGetsTheListInstead()
    {
        var (_, suggestion) = Assert.Single(MsBuildMetadataNames.Check(["Flavour"]));

        Assert.Null(suggestion);
        Assert.Contains("Known metadata: Precision, Method,", MsBuildMetadataNames.Describe("Flavour", null));
    }

    [Fact]
    public void ConfigShowWarnsOncePerUnknownMetadataAndStillAnswers()
    {
        var run = InProcessTool.Run("config", "show", "--json", "--msbuild-metadata", "Precison=W4A4", "--msbuild-metadata", "Samples=32", "--msbuild-metadata", "precison=W4A4");

        Assert.True(run.ExitCode == 0, run.ToString());
        var warning = run.Line("warning");
        Assert.Equal(ErrorCodes.UnknownMetadata, warning.GetProperty("code").GetString());
        Assert.Equal("<DsgQuantize> metadata 'Precison' is not a Dsg setting and is ignored; did you mean 'Precision'?", warning.GetProperty("message").GetString());
        var settings = run.Line("config").GetProperty("settings").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("value").GetString());
        Assert.Equal("W8A8", settings["Precision"]);
        Assert.Equal("32", settings["Samples"]);

        var human = InProcessTool.Run("config", "show", "--msbuild-metadata", "Sampels=32");
        Assert.Contains("warning DSG0908: <DsgQuantize> metadata 'Sampels' is not a Dsg setting and is ignored; did you mean 'Samples'?", human.Error);
    }
}
