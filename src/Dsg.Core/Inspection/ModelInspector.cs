using Dsg.Core.Graph;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Import;
using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Inspection;

/// <summary>Describes a model and decides whether DSG can run on it, naming every reason when it cannot.</summary>
public static class ModelInspector
{
    /// <summary>The exact PyTorch re-export advice for a model whose BatchNorm was folded away.</summary>
    public const string ReExportAdvice =
        "Re-export from PyTorch with BatchNorm preserved: model.eval(); torch.onnx.export(model, dummy_input, \"model.onnx\", " +
        "training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False, dynamic_axes={\"input\": {0: \"batch\"}}). " +
        "The default export folds BatchNormalization into Conv, which erases the statistics DSG needs.";

    /// <summary>
    /// Inspects a loaded model in the form quantization sees it: imported (Constant weights as initializers, opset
    /// upgraded to 13); the report keeps the file's own opset and lists what the import rewrote.
    /// </summary>
    public static ModelReport Inspect(OnnxModel file) => Inspect(file, out _);

    /// <summary>Inspects a loaded model and hands out the form it inspected: the import, or the file itself when it cannot be imported.</summary>
    public static ModelReport Inspect(OnnxModel file, out OnnxModel inspected)
    {
        ArgumentNullException.ThrowIfNull(file);
        var problems = new List<Problem>();
        var model = file;
        IReadOnlyList<string> changes = [];
        try
        {
            var imported = ModelImporter.Import(file);
            model = imported.Model;
            changes = imported.Changes;
        }
        catch (DsgException e) when (e.Code == ErrorCodes.OpsetNotUpgradable)
        {
            problems.Add(new Problem(e.Code, e.Message, e.Hint));
        }

        var graph = model.Graph;
        var initializerNames = model.Initializers.Keys.ToHashSet(StringComparer.Ordinal);
        var inputs = graph.Input.Where(i => !initializerNames.Contains(i.Name)).Select(Describe).ToList();
        var outputs = graph.Output.Select(Describe).ToList();
        long parameters = graph.Initializer.Sum(OnnxTensor.ElementCount);
        var histogram = graph.Node
            .GroupBy(n => string.IsNullOrEmpty(n.Domain) ? n.OpType : $"{n.Domain}.{n.OpType}")
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count());
        int batchNorms = graph.Node.Count(n => n.OpType == "BatchNormalization" && OnnxDomain.IsDefault(n.Domain));
        var unsupported = graph.Node
            .Where(n => !OperatorSupport.IsSupported(n.OpType, n.Domain))
            .Select(n => new UnsupportedNode(n.OpType, n.Domain ?? "", string.IsNullOrEmpty(n.Name) ? $"<unnamed {n.OpType} -> {string.Join(",", n.Output)}>" : n.Name))
            .ToList();

        if (batchNorms == 0)
        {
            problems.Add(new Problem(ErrorCodes.NoBatchNorm,
                $"'{model.DisplayName}' has no BatchNormalization nodes, so there are no statistics for DSG to match" +
                (histogram.ContainsKey("Conv") ? " (the Conv layers look BN-folded, as torch.onnx.export does by default)." : "."),
                ReExportAdvice));
        }

        if (unsupported.Count > 0)
        {
            var listed = string.Join("; ", unsupported.GroupBy(u => u.OpType)
                .Select(g => $"{g.Key} ({string.Join(", ", g.Select(u => u.NodeName))})"));
            problems.Add(new Problem(ErrorCodes.UnsupportedOps,
                $"'{model.DisplayName}' uses {unsupported.Select(u => u.OpType).Distinct().Count()} operator type(s) the executor does not support: {listed}.",
                $"Supported operators are listed in docs/operators.md. Export without these ops, or cut the graph before them (for example, export the backbone and classifier without post-processing)."));
        }

        if (inputs.Count != 1 || inputs[0].Shape.Count != 4)
        {
            problems.Add(new Problem(ErrorCodes.UnsupportedInput,
                $"'{model.DisplayName}' has {inputs.Count} graph input(s) ({string.Join(", ", inputs.Select(i => $"{i.Name}[{string.Join("x", i.Shape)}]"))}); DSG needs exactly one image input of shape N x C x H x W.",
                "Export the model with a single image input, for example torch.onnx.export(model, torch.randn(1, 3, 224, 224), ...)."));
        }
        else
        {
            var dynamic = inputs[0].Shape.Skip(1).Where(d => !long.TryParse(d, out _)).ToList();
            if (dynamic.Count > 0)
            {
                problems.Add(new Problem(ErrorCodes.DynamicInputShape,
                    $"Input '{inputs[0].Name}' of '{model.DisplayName}' has dynamic dimension(s) {string.Join(", ", dynamic.Select(d => $"'{d}'"))} besides the batch: DSG cannot tell what image size to synthesise.",
                    "Declare the input shape with --input-shape C,H,W (for example --input-shape 3,224,224), or export with only the batch axis dynamic (dynamic_axes={\"input\": {0: \"batch\"}})."));
            }
        }

        inspected = model;
        return new ModelReport(model.DisplayName, file.Proto.IrVersion, file.Opset,
            $"{model.Proto.ProducerName} {model.Proto.ProducerVersion}".Trim(), inputs, outputs, parameters,
            histogram, batchNorms, unsupported, problems)
        {
            QuantizedOpset = Math.Max(model.Opset, ModelImporter.MinimumOpset),
            Import = changes,
        };
    }

    /// <summary>Throws the first problem that stops DSG from running on the model.</summary>
    /// <param name="model">The model.</param>
    /// <param name="declaredInputShape">C,H,W declared by the user; it clears the dynamic-shape problem.</param>
    public static ModelReport EnsureDsgReady(OnnxModel model, IReadOnlyList<long>? declaredInputShape = null)
    {
        var report = Inspect(model);
        var blocking = report.Problems.FirstOrDefault(p => declaredInputShape is null || p.Code != ErrorCodes.DynamicInputShape);
        if (blocking is not null)
        {
            throw blocking.ToException(model.DisplayName);
        }

        return report;
    }

    private static TensorInfo Describe(ValueInfoProto value)
    {
        var tensorType = value.Type?.TensorType;
        string elementType = tensorType is null ? "unknown" : ((TensorProto.Types.DataType)tensorType.ElemType).ToString().ToLowerInvariant();
        var shape = tensorType?.Shape?.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue
                ? d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)
                : string.IsNullOrEmpty(d.DimParam) ? "?" : d.DimParam).ToList()
            ?? new List<string>();
        return new TensorInfo(value.Name, elementType, shape);
    }
}
