using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Onnx.Import;

/// <summary>
/// Exporters that trace a model at a fixed batch N (most often 1) fold <c>x.view(x.size(0), -1)</c> into a Reshape
/// to the constant [N, -1]; such a graph computes batch N only. The copy made here writes 0 ("copy the input's
/// dimension") for that leading N, which means the same at batch N when the Reshape's input has the batch first, and
/// lets the copy run other batch sizes. The caller must check that the copy's outputs match the original's at batch N.
/// </summary>
public static class FixedBatchReshapes
{
    /// <summary>A copy of <paramref name="model"/> with those Reshapes generalised, or null when there are none.</summary>
    public static OnnxModel? Generalize(OnnxModel model, long fixedBatch)
    {
        ArgumentNullException.ThrowIfNull(model);
        var copy = model.Clone();
        var initializers = copy.Graph.Initializer.GroupBy(t => t.Name).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        var uses = copy.Graph.Node.SelectMany(n => n.Input).GroupBy(i => i, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var names = new GraphNames(copy.Graph);
        int changed = 0;
        foreach (var node in copy.Graph.Node)
        {
            if (node.OpType != "Reshape" || !OnnxDomain.IsDefault(node.Domain) || node.Input.Count < 2
                || node.Attribute.Any(a => a.Name == "allowzero" && a.I != 0)
                || !initializers.TryGetValue(node.Input[1], out var shapeTensor)
                || OnnxTensor.DataType(shapeTensor) != TensorProto.Types.DataType.Int64)
            {
                continue;
            }

            var shape = OnnxTensor.ToInt64s(shapeTensor, copy);
            if (shape.Length < 2 || shape[0] != fixedBatch)
            {
                continue;
            }

            shape[0] = 0;
            // A shape shared with another node is copied, so only this Reshape changes.
            string name = uses.GetValueOrDefault(node.Input[1]) > 1 ? names.Fresh(node.Input[1] + "_batch") : node.Input[1];
            var replacement = OnnxTensor.FromInt64s(name, shape, shape.Length);
            if (name == node.Input[1])
            {
                int index = copy.Graph.Initializer.IndexOf(shapeTensor);
                copy.Graph.Initializer[index] = replacement;
                initializers[name] = replacement;
            }
            else
            {
                copy.Graph.Initializer.Add(replacement);
                node.Input[1] = name;
            }

            changed++;
        }

        if (changed == 0)
        {
            return null;
        }

        foreach (var value in copy.Graph.Input.Concat(copy.Graph.Output))
        {
            if (value.Type?.TensorType?.Shape?.Dim is { Count: > 0 } dims && dims[0].DimValue == fixedBatch)
            {
                dims[0] = new TensorShapeProto.Types.Dimension { DimParam = "batch" };
            }
        }

        copy.Graph.ValueInfo.Clear();
        return copy;
    }
}
