using Dsg.Core;
using Dsg.Tests.Shared;
using Dsg.Tool.Commands;
using Dsg.Tool.Configuration;
using Microsoft.Extensions.Configuration;

namespace Dsg.Tool.Tests.Configuration;

/// <summary>
/// The MSBuild task passes a DsgQuantize item's metadata unchecked (--msbuild-metadata NAME=VALUE); the tool's
/// catalog is the only validator, so these pin what an MSBuild user sees.
/// </summary>
public sealed class MsBuildMetadataTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static IConfiguration Environment(params (string Name, string Value)[] variables) =>
        new ConfigurationBuilder().AddInMemoryCollection(variables.Select(v => new KeyValuePair<string, string?>(v.Name["DSG_".Length..], v.Value))).Build();

    private ResolvedOptions Resolve(IConfiguration? environment = null, Dictionary<string, string>? commandLine = null, params (string Name, string Value)[] metadata) =>
        OptionsResolver.Resolve(commandLine ?? [], null, _folder.Combine("models", "m.onnx"), environment ?? Environment(), _folder.Path,
            metadata.Select(m => new KeyValuePair<string, string>(m.Name, m.Value)).ToList());

    [Fact]
    public void MetadataBeatsDsgJsonAndEnvironmentFlagsBeatMetadataAndEmptyMetadataIsUnset()
    {
        _folder.Write("models/dsg.json", """{ "precision": "W4A8", "method": "zeroq", "seed": 3 }""");

        var resolved = Resolve(Environment(("DSG_SEED", "5"), ("DSG_SAMPLES", "40")), null, ("Precision", "w6a6"), ("Seed", "9"), ("Method", ""), ("samples", ""));

        Assert.Equal("W6A6", resolved.Options.Precision);
        Assert.Equal("MSBuild Precision", resolved.Sources["Precision"]);
        Assert.Equal(9, resolved.Options.Seed);
        Assert.Equal("zeroq", resolved.Options.Method); // empty metadata leaves dsg.json's value
        Assert.Equal(40, resolved.Options.Samples);
        Assert.Equal("W4A4", Resolve(null, new Dictionary<string, string> { ["Precision"] = "W4A4" }, ("Precision", "W6A6")).Options.Precision);
    }

    [Fact]
    public void MetadataThatIsNoSettingIsIgnored()
    {
        var resolved = Resolve(null, null, ("Visible", "false"), ("CopyToOutputDirectory", "Always"), ("Link", "x"));

        Assert.Equal(DsgOptions.Default, resolved.Options);
    }

    [Theory]
    [InlineData("Precision", "W3A3", "W8A8, W6A6, W4A8, W4A4")]
    [InlineData("Method", "magic", "dsg, zeroq, gaussian")]
    [InlineData("Samples", "0", "an integer from 1 to 1000000")]
    [InlineData("HeldOutSamples", "100001", "an integer from 1 to 100000")]
    [InlineData("Iterations", "0", "an integer from 1 to 100000")]
    [InlineData("Iterations", "200000", "an integer from 1 to 100000")]
    [InlineData("Budget", "quick", "fast, default, thorough")]
    [InlineData("BatchSize", "5000", "an integer from 1 to 4096")]
    [InlineData("Threads", "2.5", "an integer from 0 to 1024")]
    [InlineData("OutputKind", "softmax", "auto, logits, probabilities, embedding, dense")]
    [InlineData("MinAgreement", "95", "a number from 0 to 1")]
    [InlineData("InputShape", "224", "three positive integers C,H,W")]
    [InlineData("Without", "sci,magic", "comma-separated list of")]
    [InlineData("TermWeights", "bn=1,bn=2", "each at most once")]
    [InlineData("InputRange", "255,0", "MIN < MAX")]
    [InlineData("CalibrationData", "no/such.npy", "a path to an existing .npy file")]
    public void ABadValueIsDsg0902NamingTheMetadataAndTheAllowedValues(string name, string value, string allowed)
    {
        var error = Assert.Throws<DsgException>(() => Resolve(null, null, (name, value)));

        Assert.Equal(ErrorCodes.InvalidMetadata, error.Code);
        Assert.StartsWith($"Invalid value '{value}' for MSBuild metadata {name}: expected ", error.Message, StringComparison.Ordinal);
        Assert.Contains(allowed, error.Message, StringComparison.Ordinal);
        Assert.Contains($"Fix {name} on the <DsgQuantize> item.", error.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void BuildInputsAreTheNormalisedValuesSoRespellingDoesNotRebuild()
    {
        var first = ConfigCommand.BuildInputs(Resolve(null, null, ("Without", "sci,class"), ("InputMean", "123.70, 116.3,103.5"), ("InputShape", "3x224x224")).Options).ToList();
        var second = ConfigCommand.BuildInputs(Resolve(null, null, ("Without", "CLASS,sci"), ("InputMean", "1.237e2,116.30,103.5"), ("InputShape", "3,224,224")).Options).ToList();

        Assert.Equal(first, second);
        Assert.Contains("without=class,sci", first);
        Assert.Contains("minAgreement=", first); // checked on cache hits, so a change reruns the target
        Assert.DoesNotContain(first, l => l.StartsWith("threads=", StringComparison.Ordinal) || l.StartsWith("cacheDir=", StringComparison.Ordinal));
    }

    [Fact]
    public void ThePropsDeclareExactlyTheToolsItemSettingsAndForceNoValue()
    {
        var props = System.Xml.Linq.XDocument.Load(Path.Combine(RepoPaths.Root, "src", "Dsg.Build.Tasks", "build", "Dsg.Build.props"));
        var metadata = props.Descendants("DsgQuantize").Single().Elements().ToDictionary(e => e.Name.LocalName, e => e.Value);
        string[] taskOwn = ["ConfigFile", "OutputName", "Embed", "LogicalName"];
        // The cache settings are build properties (DsgCacheDir, DsgNoCache, DsgRemoteCache...), not metadata of one item.
        var itemSettings = OptionCatalog.All.Except(OptionCatalog.BuildWide).Select(d => d.Name).ToList();

        Assert.Equal(itemSettings.Concat(taskOwn).Order(), metadata.Keys.Order());
        Assert.All(itemSettings, name => Assert.Equal("", metadata[name]));
    }
}
