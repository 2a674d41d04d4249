using System.Text.Json;
using Dsg.Core.Data;
using Dsg.Core.Graph;
using Dsg.Core.Onnx;
using Dsg.Tests.Shared;
using TorchSharp;

namespace Dsg.Core.Tests.Graph;

/// <summary>The evaluation family (testassets/family, made by eng/make-family.py) that the generator's defaults are chosen and reported on.</summary>
public sealed class FamilyAssetTests
{
    private static readonly string s_family = Path.Combine(RepoPaths.TestAssets, "family");

    public static TheoryData<string> Nets()
    {
        var data = new TheoryData<string>();
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(s_family, "manifest.json")));
        foreach (var net in manifest.RootElement.EnumerateObject())
        {
            data.Add(net.Name);
        }

        return data;
    }

    [Fact]
    public void TheFamilyHasAtLeastEightNetsSplitIntoTuningAndHeldOut()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(s_family, "manifest.json")));
        var splits = manifest.RootElement.EnumerateObject().Select(net => net.Value.GetProperty("split").GetString()).ToList();
        Assert.True(splits.Count >= 8, $"{splits.Count} nets");
        Assert.All(splits, split => Assert.Contains(split, new[] { "tune", "held" }));
        Assert.True(splits.Count(s => s == "held") >= 4, "the held-out split has fewer than four nets");
        Assert.True(splits.Count(s => s == "tune") >= 3, "the tuning split has fewer than three nets");
    }

    [Theory]
    [MemberData(nameof(Nets))]
    public void EveryNetKeepsItsBatchNormsAndClassifiesTheTestImages(string name)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(s_family, "manifest.json")));
        var entry = manifest.RootElement.GetProperty(name);
        string path = Path.Combine(s_family, name + ".onnx");
        Assert.Equal(entry.GetProperty("bytes").GetInt64(), new FileInfo(path).Length);
        using var graph = TorchGraph.Create(OnnxModel.Load(path));
        Assert.Equal(entry.GetProperty("batchnorm_nodes").GetInt32(), graph.BatchNormLayers.Count);
        var (images, shape) = NpyFile.ReadFloat32(RepoPaths.Data("fmnist_test_64.npy"));
        var labels = NpyFile.ReadInt64(RepoPaths.Data("fmnist_test_64_labels.npy")).Data;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var predicted = graph.Forward(torch.tensor(images, shape)).Outputs[0].argmax(1).data<long>().ToArray();
        double accuracy = predicted.Zip(labels, (p, l) => p == l ? 1.0 : 0.0).Average();
        // 64 images: the full-test-set accuracy in the manifest, within the spread of a 64-image estimate.
        Assert.InRange(accuracy, entry.GetProperty("fp32_test_accuracy").GetDouble() - 0.15, 1.0);
    }
}
