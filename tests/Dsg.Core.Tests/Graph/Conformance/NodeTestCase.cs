using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Tests.Graph.Conformance;

/// <summary>One ONNX backend node test: model.onnx plus test_data_set_*/input_*.pb and output_*.pb.</summary>
internal sealed class NodeTestCase
{
    private NodeTestCase(string name, string directory, OnnxModel model)
    {
        Name = name;
        Directory = directory;
        Model = model;
        OpTypes = model.Graph.Node.Select(n => n.OpType).Distinct().Order(StringComparer.Ordinal).ToArray();
        var main = OpTypes.Where(o => o != "Constant").ToArray();
        PrimaryOp = main.Length == 1 ? main[0] : OpTypes.Count == 1 ? OpTypes[0] : null;
    }

    public string Name { get; }

    public string Directory { get; }

    public OnnxModel Model { get; }

    /// <summary>Distinct op types of the model's nodes.</summary>
    public IReadOnlyList<string> OpTypes { get; }

    /// <summary>The one op the case tests (ignoring Constant nodes feeding it); null for multi-op (expanded) cases.</summary>
    public string? PrimaryOp { get; }

    /// <summary>The graph inputs (initializers excluded).</summary>
    public IReadOnlyList<ValueInfoProto> Inputs =>
        Model.Graph.Input.Where(i => !Model.Initializers.ContainsKey(i.Name)).ToList();

    public static NodeTestCase Load(string directory) =>
        new(Path.GetFileName(directory), directory, OnnxModel.Load(Path.Combine(directory, "model.onnx")));

    /// <summary>Each data set: its inputs (matched to graph inputs by position) and expected outputs.</summary>
    public IEnumerable<(string Name, List<TensorProto> Inputs, List<TensorProto> Outputs)> DataSets()
    {
        foreach (var set in System.IO.Directory.GetDirectories(Directory, "test_data_set_*").Order(StringComparer.Ordinal))
        {
            yield return (Path.GetFileName(set), Read(set, "input"), Read(set, "output"));
        }
    }

    private static List<TensorProto> Read(string set, string prefix)
    {
        var list = new List<TensorProto>();
        for (int i = 0; ; i++)
        {
            var path = Path.Combine(set, $"{prefix}_{i}.pb");
            if (!File.Exists(path))
            {
                return list;
            }

            list.Add(TensorProto.Parser.ParseFrom(File.ReadAllBytes(path)));
        }
    }
}
