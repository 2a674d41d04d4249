using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Onnx.Import;

/// <summary>
/// Brings a model from any exporter into the form the rest of Dsg works on, on a copy: <c>Constant</c>-node weights
/// become initializers, initializers leave the graph inputs, external-data tensors are read into the model (ONNX
/// Runtime loads the import from memory, where relative locations mean nothing), and a default-domain opset below
/// <see cref="MinimumOpset"/> is upgraded to it (per-channel DequantizeLinear needs 13).
/// </summary>
public static class ModelImporter
{
    /// <summary>The opset a quantized model needs, and the one older models are upgraded to.</summary>
    public const long MinimumOpset = 13;

    /// <summary>The IR version that opset <see cref="MinimumOpset"/> needs.</summary>
    private const long MinimumIrVersion = 7;

    /// <summary>Imports <paramref name="model"/>; the loaded model itself is not changed.</summary>
    /// <exception cref="DsgException">DSG0206 when an op cannot be converted to opset 13 (every such op is named);
    /// DSG0105 or DSG0107 when external data cannot be read.</exception>
    public static ImportedModel Import(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var copy = model.Clone();
        long opset = model.Opset;
        var changes = new List<string>();
        int inlined = InlineExternalData(copy);
        if (inlined > 0)
        {
            changes.Add($"{inlined} external-data tensor(s) read into the model");
        }

        changes.AddRange(ConstantLifting.Apply(copy.Graph));
        if (opset < MinimumOpset)
        {
            changes.AddRange(OpsetUpgrader.Upgrade(copy.Graph, opset, model.DisplayName));
            var import = copy.Proto.OpsetImport.FirstOrDefault(o => OnnxDomain.IsDefault(o.Domain));
            if (import is null)
            {
                copy.Proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = MinimumOpset });
            }
            else
            {
                import.Version = MinimumOpset;
            }

            changes.Insert(0, $"opset {opset} upgraded to {MinimumOpset}");
        }

        if (copy.Proto.IrVersion < MinimumIrVersion && copy.Opset >= MinimumOpset)
        {
            changes.Add($"IR version {copy.Proto.IrVersion} raised to {MinimumIrVersion}");
            copy.Proto.IrVersion = MinimumIrVersion;
        }

        return new ImportedModel(copy, opset, changes);
    }

    /// <summary>Replaces every external-data reference in <paramref name="copy"/> by the bytes it names (checked as on load).</summary>
    private static int InlineExternalData(OnnxModel copy)
    {
        int count = 0;
        foreach (var tensor in OnnxModel.EnumerateTensors(copy.Graph).Where(OnnxTensor.IsExternal).ToList())
        {
            var bytes = OnnxTensor.ReadRawBytes(tensor, copy) ?? [];
            tensor.ExternalData.Clear();
            tensor.ClearDataLocation();
            tensor.RawData = Google.Protobuf.ByteString.CopyFrom(bytes);
            count++;
        }

        return count;
    }
}
