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
    public static ModelReport Inspect(OnnxModel file, ReadinessOptions? readiness = null) => Inspect(file, out _, readiness);

    /// <summary>Inspects a loaded model and hands out the form it inspected: the import, or the file itself when it cannot be imported.</summary>
    public static ModelReport Inspect(OnnxModel file, out OnnxModel inspected, ReadinessOptions? readiness = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        ImportedModel? imported = null;
        Problem? importProblem = null;
        try
        {
            imported = ModelImporter.Import(file);
        }
        catch (DsgException e) when (e.Code == ErrorCodes.OpsetNotUpgradable)
        {
            importProblem = new Problem(e.Code, e.Message, e.Hint);
        }

        inspected = imported?.Model ?? file;
        return Inspect(file, imported, importProblem, readiness ?? ReadinessOptions.Default);
    }

    /// <summary>
    /// The check a quantize or generate run makes before any work, the same pass <c>inspect</c> reports: throws the
    /// first problem that stops a run whose samples come from a source with the given needs. A model
    /// <see cref="Inspect(OnnxModel, ReadinessOptions)"/> calls ready passes it for every source.
    /// </summary>
    /// <param name="file">The model as loaded.</param>
    /// <param name="imported">Its import (the form the run works on).</param>
    /// <param name="readiness">The declared input shape and the limits.</param>
    /// <param name="runsExecutor">Whether the run builds the TorchSharp executor (every generator does).</param>
    /// <param name="needsBatchNorm">Whether the run needs BatchNorm statistics (dsg and zeroq).</param>
    /// <exception cref="DsgException">The first blocking problem's code.</exception>
    public static ModelReport EnsureReady(OnnxModel file, ImportedModel imported, ReadinessOptions? readiness, bool runsExecutor, bool needsBatchNorm)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(imported);
        var report = Inspect(file, imported, null, (readiness ?? ReadinessOptions.Default) with { RunExecutor = runsExecutor });
        var blocking = report.Problems.FirstOrDefault(p => p.Scope switch
        {
            ProblemScope.BatchNormStatistics => needsBatchNorm,
            ProblemScope.Executor => runsExecutor,
            _ => true,
        });
        if (blocking is not null)
        {
            throw blocking.ToException(file.DisplayName);
        }

        return report;
    }

    /// <summary>Throws the first problem that stops DSG from running on the model (a generate or a dsg/zeroq quantize).</summary>
    /// <param name="model">The model.</param>
    /// <param name="declaredInputShape">C,H,W declared by the user; it clears the dynamic-shape problem.</param>
    /// <param name="limits">The limits; null takes <see cref="ModelLimits.Default"/>.</param>
    public static ModelReport EnsureDsgReady(OnnxModel model, IReadOnlyList<long>? declaredInputShape = null, ModelLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return EnsureReady(model, ModelImporter.Import(model),
            new ReadinessOptions { InputShape = declaredInputShape, Limits = limits ?? ModelLimits.Default }, runsExecutor: true, needsBatchNorm: true);
    }

    /// <summary>
    /// The sample shape (C, H, W) a run generates: the declared one, or the model's image input's static dimensions.
    /// </summary>
    /// <exception cref="DsgException">DSG0204 without exactly one float image input of rank 4; DSG0203 when a
    /// dimension besides the batch is dynamic (or not positive) and none was declared; DSG0109 past the input limit.</exception>
    public static long[] SampleShape(OnnxModel model, IReadOnlyList<long>? declaredInputShape = null, ModelLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (InputProblem(model, ImageInputs(model), declaredInputShape, limits ?? ModelLimits.Default, out var shape) is { } problem)
        {
            throw problem.ToException(model.DisplayName);
        }

        return shape!;
    }

    private static ModelReport Inspect(OnnxModel file, ImportedModel? imported, Problem? importProblem, ReadinessOptions readiness)
    {
        var problems = new List<Problem>();
        if (importProblem is not null)
        {
            problems.Add(importProblem);
        }

        var model = imported?.Model ?? file;
        var graph = model.Graph;
        var imageInputs = ImageInputs(model);
        var inputs = imageInputs.Select(Describe).ToList();
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
                ReExportAdvice) { Scope = ProblemScope.BatchNormStatistics });
        }

        if (unsupported.Count > 0)
        {
            var listed = string.Join("; ", unsupported.GroupBy(u => u.OpType)
                .Select(g => $"{g.Key} ({string.Join(", ", g.Select(u => u.NodeName))})"));
            problems.Add(new Problem(ErrorCodes.UnsupportedOps,
                $"'{model.DisplayName}' uses {unsupported.Select(u => u.OpType).Distinct().Count()} operator type(s) the executor does not support: {listed}.",
                $"Supported operators are listed in docs/operators.md. Export without these ops, or cut the graph before them (for example, export the backbone and classifier without post-processing).")
            { Scope = ProblemScope.Executor });
        }

        if (InputProblem(model, imageInputs, readiness.InputShape, readiness.Limits, out var sampleShape) is { } inputProblem)
        {
            problems.Add(inputProblem);
        }

        // The model computes: two N(0, 1) samples through ONNX Runtime (which calibrates and verifies every run) and, unless a
        // problem already stops it, through the executor (which generates), as the run would. Only then is it ready.
        if (readiness.RunModel && sampleShape is not null && importProblem is null && problems.All(p => p.Scope != ProblemScope.Everything))
        {
            problems.AddRange(ModelProbe.Run(model, sampleShape, runExecutor: readiness.RunExecutor && problems.All(p => p.Scope != ProblemScope.Executor)));
        }

        return new ModelReport(model.DisplayName, file.Proto.IrVersion, file.Opset,
            $"{model.Proto.ProducerName} {model.Proto.ProducerVersion}".Trim(), inputs, outputs, parameters,
            histogram, batchNorms, unsupported, problems)
        {
            QuantizedOpset = Math.Max(model.Opset, ModelImporter.MinimumOpset),
            Import = imported?.Changes ?? [],
        };
    }

    /// <summary>The graph inputs that are not initializers (an IR-3 model lists its weights as inputs too).</summary>
    private static List<ValueInfoProto> ImageInputs(OnnxModel model)
    {
        var initializerNames = model.Initializers.Keys.ToHashSet(StringComparer.Ordinal);
        return model.Graph.Input.Where(i => !initializerNames.Contains(i.Name)).ToList();
    }

    /// <summary>Whether the model has the one float N x C x H x W input a run needs, and its sample shape (C, H, W) when it has.</summary>
    private static Problem? InputProblem(OnnxModel model, List<ValueInfoProto> inputs, IReadOnlyList<long>? declared, ModelLimits limits, out long[]? sampleShape)
    {
        sampleShape = null;
        var dims = inputs.Count == 1 ? inputs[0].Type?.TensorType?.Shape?.Dim : null;
        if (dims is not { Count: 4 })
        {
            var described = inputs.Select(Describe);
            return new Problem(ErrorCodes.UnsupportedInput,
                $"'{model.DisplayName}' has {inputs.Count} graph input(s) ({string.Join(", ", described.Select(i => $"{i.Name}[{string.Join("x", i.Shape)}]"))}); DSG needs exactly one image input of shape N x C x H x W.",
                "Export the model with a single image input, for example torch.onnx.export(model, torch.randn(1, 3, 224, 224), ...).");
        }

        var input = inputs[0];
        if (input.Type.TensorType.ElemType != (int)TensorProto.Types.DataType.Float)
        {
            return new Problem(ErrorCodes.UnsupportedInput,
                $"Input '{input.Name}' of '{model.DisplayName}' holds {Describe(input).ElementType}; DSG needs a float32 image input.",
                "Export the model with a float32 image input (cast inside the model if it needs another type).");
        }

        if (declared is not null)
        {
            sampleShape = [.. declared];
        }
        else
        {
            var dynamic = dims.Skip(1).Where(d => d.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue || d.DimValue < 1).ToList();
            if (dynamic.Count > 0)
            {
                return new Problem(ErrorCodes.DynamicInputShape,
                    $"Input '{input.Name}' of '{model.DisplayName}' has dynamic dimension(s) {string.Join(", ", dynamic.Select(d => $"'{(d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : string.IsNullOrEmpty(d.DimParam) ? "?" : d.DimParam)}'"))} besides the batch: DSG cannot tell what image size to synthesise.",
                    "Declare the input shape with --input-shape C,H,W (for example --input-shape 3,224,224), or export with only the batch axis dynamic (dynamic_axes={\"input\": {0: \"batch\"}}).");
            }

            sampleShape = dims.Skip(1).Select(d => d.DimValue).ToArray();
        }

        try
        {
            limits.CheckInputValues(sampleShape, input.Name, model.DisplayName, declared: declared is not null);
        }
        catch (DsgException e)
        {
            sampleShape = null;
            return new Problem(e.Code, e.Message, e.Hint);
        }

        return null;
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
