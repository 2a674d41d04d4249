using Dsg.Core.Onnx.Proto;
using Google.Protobuf;

namespace Dsg.Core.Onnx;

/// <summary>
/// An ONNX model read from disk: the protobuf (unknown fields kept, so a save loses nothing) and the folder
/// that external-data tensors are resolved against.
/// </summary>
public sealed class OnnxModel
{
    private Dictionary<string, TensorProto>? _initializers;

    private OnnxModel(ModelProto proto, string? directory, string displayName)
    {
        Proto = proto;
        Directory = directory;
        DisplayName = displayName;
    }

    /// <summary>The protobuf. Changes to it are seen by every later call.</summary>
    public ModelProto Proto { get; }

    /// <summary>The graph.</summary>
    public GraphProto Graph => Proto.Graph;

    /// <summary>The folder external-data locations are relative to; null for an in-memory model.</summary>
    public string? Directory { get; }

    /// <summary>The file name or a label, for messages.</summary>
    public string DisplayName { get; }

    /// <summary>The opset of the default (ai.onnx) domain.</summary>
    public long Opset =>
        Proto.OpsetImport.FirstOrDefault(o => OnnxDomain.IsDefault(o.Domain))?.Version ?? 0;

    /// <summary>Initializers by name.</summary>
    public IReadOnlyDictionary<string, TensorProto> Initializers =>
        _initializers ??= Graph.Initializer.GroupBy(t => t.Name).ToDictionary(g => g.Key, g => g.Last());

    /// <summary>Reads and validates a model file (<see cref="GraphValidator"/>, within <paramref name="limits"/>).</summary>
    /// <param name="path">The .onnx file.</param>
    /// <param name="limits">The limits on declared sizes; null takes <see cref="ModelLimits.Default"/>.</param>
    /// <exception cref="DsgException">DSG0101 to DSG0111.</exception>
    public static OnnxModel Load(string path, ModelLimits? limits = null)
    {
        var full = Path.GetFullPath(path);
        return FromBytes(ReadFile(path), Path.GetDirectoryName(full), full, limits);
    }

    /// <summary>
    /// The bytes of a model file, refusing (before opening it) anything that is not a regular file: a FIFO would block
    /// the read forever, a device would never end.
    /// </summary>
    /// <exception cref="DsgException"><see cref="ErrorCodes.ModelNotFound"/>.</exception>
    public static byte[] ReadFile(string path)
    {
        var full = Path.GetFullPath(path);
        try
        {
            var node = FileNode.Of(full);
            if (node is null)
            {
                throw new DsgException(
                    ErrorCodes.ModelNotFound,
                    $"Model file '{path}' was not found.",
                    "Check the path; it is resolved against the current folder (or the project folder in a build).")
                { FilePath = full };
            }

            if (node.Value.Kind != FileNodeKind.Regular)
            {
                throw new DsgException(
                    ErrorCodes.ModelNotFound,
                    $"Model path '{path}' is {(node.Value.Kind == FileNodeKind.Directory ? "a folder" : "a FIFO, device or socket")}, not a model file; it was not opened.",
                    "Pass the path of the .onnx file itself.")
                { FilePath = full };
            }

            if (node.Value.Size > Array.MaxLength)
            {
                throw new DsgException(
                    ErrorCodes.TensorTooLarge,
                    $"Model file '{path}' is {node.Value.Size} bytes; an ONNX protobuf is at most 2 GB.",
                    "Save the weights as external data (onnx.save_model(..., save_as_external_data=True)).")
                { FilePath = full };
            }

            return File.ReadAllBytes(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DsgException(ErrorCodes.ModelNotFound, $"Model file '{path}' cannot be read: {e.Message}",
                "Check the file's permissions.", e) { FilePath = full };
        }
    }

    /// <summary>Parses and validates a model held in memory; <paramref name="directory"/> resolves external data.</summary>
    /// <exception cref="DsgException">As <see cref="Load"/>.</exception>
    public static OnnxModel FromBytes(byte[] bytes, string? directory, string displayName, ModelLimits? limits = null)
    {
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e) when (e.Message.Contains("truncated", StringComparison.OrdinalIgnoreCase))
        {
            throw new DsgException(
                ErrorCodes.TruncatedModel,
                $"'{displayName}' ends before the ONNX protobuf does ({bytes.Length} bytes): the file is truncated.",
                "Copy or export the model again; an interrupted download or a Git LFS pointer file looks like this.",
                e) { FilePath = displayName };
        }
        catch (InvalidProtocolBufferException e)
        {
            throw NotOnnx(displayName, e.Message, e);
        }

        if (proto.Graph is null || proto.IrVersion <= 0 || proto.Graph.Node.Count == 0)
        {
            throw NotOnnx(displayName, "it has no graph or IR version", null);
        }

        var model = new OnnxModel(proto, directory, displayName);
        model.ValidateExternalData();
        GraphValidator.Validate(model, limits);
        return model;
    }

    /// <summary>Wraps a protobuf built in memory.</summary>
    public static OnnxModel FromProto(ModelProto proto, string? directory = null, string displayName = "<memory>") =>
        new(proto, directory, displayName);

    /// <summary>A deep copy that resolves external data against the same folder.</summary>
    public OnnxModel Clone() => new(Proto.Clone(), Directory, DisplayName);

    /// <summary>The serialized protobuf.</summary>
    public byte[] ToBytes() => Proto.ToByteArray();

    /// <summary>
    /// Writes the model atomically (temp file, then rename). When the target folder differs from the source
    /// folder, external-data tensors are copied inline so the saved file is self-contained.
    /// </summary>
    public void Save(string path)
    {
        var full = Path.GetFullPath(path);
        var targetDirectory = Path.GetDirectoryName(full)!;
        System.IO.Directory.CreateDirectory(targetDirectory);
        var proto = Proto;
        if (HasExternalData() && !string.Equals(Directory, targetDirectory, StringComparison.Ordinal))
        {
            proto = Proto.Clone();
            foreach (var tensor in EnumerateTensors(proto.Graph))
            {
                if (OnnxTensor.IsExternal(tensor))
                {
                    var data = OnnxTensor.ReadRawBytes(tensor, this);
                    tensor.ExternalData.Clear();
                    tensor.ClearDataLocation();
                    tensor.RawData = ByteString.CopyFrom(data);
                }
            }
        }

        AtomicFile.Write(full, stream => proto.WriteTo(stream));
    }

    /// <summary>Whether any tensor keeps its data in an external file.</summary>
    public bool HasExternalData() => EnumerateTensors(Graph).Any(OnnxTensor.IsExternal);

    /// <summary>Every tensor in the graph and its sub-graphs: initializers and Constant-node values.</summary>
    public static IEnumerable<TensorProto> EnumerateTensors(GraphProto graph)
    {
        foreach (var t in graph.Initializer)
        {
            yield return t;
        }

        foreach (var node in graph.Node)
        {
            foreach (var attribute in node.Attribute)
            {
                if (attribute.T is not null)
                {
                    yield return attribute.T;
                }

                foreach (var t in attribute.Tensors)
                {
                    yield return t;
                }

                foreach (var g in attribute.Graphs.Append(attribute.G).OfType<GraphProto>())
                {
                    foreach (var t in EnumerateTensors(g))
                    {
                        yield return t;
                    }
                }
            }
        }
    }

    private void ValidateExternalData()
    {
        foreach (var tensor in EnumerateTensors(Graph))
        {
            if (OnnxTensor.IsExternal(tensor))
            {
                OnnxTensor.LocateExternal(tensor, this);
            }
        }
    }

    private static DsgException NotOnnx(string displayName, string detail, Exception? inner) =>
        new(ErrorCodes.NotOnnx,
            $"'{displayName}' is not an ONNX model ({detail}).",
            "Pass a .onnx file exported with torch.onnx.export or another ONNX exporter.",
            inner) { FilePath = displayName };
}
