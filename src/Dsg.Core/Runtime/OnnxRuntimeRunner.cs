using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Dsg.Core.Runtime;

/// <summary>
/// Runs an ONNX model on the CPU with ONNX Runtime, one batch at a time, for models with one image input (float, or
/// double: the samples are converted). A model whose tensors live in external files is loaded from a self-contained
/// temporary copy. Errors ONNX Runtime raises become <see cref="DsgException"/> DSG0709.
/// </summary>
public sealed class OnnxRuntimeRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly TensorElementType _inputType;
    private readonly string? _temporary;

    /// <summary>Loads a model into ONNX Runtime.</summary>
    /// <param name="model">The model.</param>
    /// <param name="threads">Intra-op threads; 0 lets ONNX Runtime choose.</param>
    /// <param name="optimizedModelPath">When set, ONNX Runtime writes its optimized graph there (for inspection).</param>
    /// <param name="level">The graph optimization level.</param>
    public OnnxRuntimeRunner(OnnxModel model, int threads = 0, string? optimizedModelPath = null,
        GraphOptimizationLevel level = GraphOptimizationLevel.ORT_ENABLE_ALL)
    {
        DisplayName = model.DisplayName;
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var input = model.Graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
        if (input.Count != 1)
        {
            throw new DsgException(ErrorCodes.UnsupportedInput,
                $"'{model.DisplayName}' has {input.Count} inputs; evaluation needs exactly one image input.",
                "Export the model with a single image input.") { FilePath = model.DisplayName };
        }

        InputName = input[0].Name;
        InputDims = input[0].Type?.TensorType?.Shape?.Dim.Select(d => d.HasDimValue ? d.DimValue : -1).ToArray() ?? [];
        OutputNames = model.Graph.Output.Select(o => o.Name).ToArray();
        try
        {
            using var options = new SessionOptions
            {
                GraphOptimizationLevel = level,
                IntraOpNumThreads = threads,
                InterOpNumThreads = 1,
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            };
            if (optimizedModelPath is not null)
            {
                options.OptimizedModelFilePath = optimizedModelPath;
            }

            if (model.HasExternalData())
            {
                // An in-memory session cannot resolve external files; Save inlines them into a copy elsewhere.
                _temporary = Directory.CreateTempSubdirectory("dsg-ort-").FullName;
                var path = Path.Combine(_temporary, "model.onnx");
                model.Save(path);
                _session = new InferenceSession(path, options);
            }
            else
            {
                _session = new InferenceSession(model.ToBytes(), options);
            }

            _inputType = _session.InputMetadata[InputName].ElementDataType;
        }
        catch (OnnxRuntimeException e)
        {
            DeleteTemporary();
            throw Failed(model.DisplayName, "load", e);
        }
    }

    /// <summary>The model's name, for messages.</summary>
    public string DisplayName { get; }

    /// <summary>The image input's name.</summary>
    public string InputName { get; }

    /// <summary>The image input's declared dims (−1 for a symbolic dimension).</summary>
    public long[] InputDims { get; }

    /// <summary>The graph outputs, in order.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>A copy of <paramref name="model"/> with extra graph outputs (intermediate tensors) of the given element type.</summary>
    public static OnnxModel WithOutputs(OnnxModel model, IEnumerable<string> names,
        TensorProto.Types.DataType type = TensorProto.Types.DataType.Float)
    {
        var copy = model.Clone();
        var existing = copy.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in names.Where(existing.Add))
        {
            copy.Graph.Output.Add(new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type } },
            });
        }

        return copy;
    }

    /// <summary>The batch size the model's input fixes (for example 1 in [1,3,224,224]); null when the batch is symbolic.</summary>
    public long? FixedBatch => InputDims.Length > 0 && InputDims[0] > 0 ? InputDims[0] : null;

    /// <summary>
    /// Runs one batch and returns the named outputs (all graph outputs when <paramref name="outputs"/> is null). A model
    /// that fixes its batch is run in slices of that batch (the last one padded with zeros) and its outputs, batch first,
    /// are joined again, so callers may pass any number of samples.
    /// </summary>
    /// <param name="batch">The input values, N×C×H×W in C order.</param>
    /// <param name="shape">The input shape.</param>
    /// <param name="outputs">Which outputs to return.</param>
    public IReadOnlyList<TensorResult> Run(ReadOnlyMemory<float> batch, long[] shape, IReadOnlyList<string>? outputs = null)
    {
        outputs ??= OutputNames;
        return FixedBatch is long fixedBatch && shape.Length > 0 && shape[0] != fixedBatch
            ? RunInSlices(batch, shape, outputs, fixedBatch)
            : RunOnce(batch, shape, outputs);
    }

    private IReadOnlyList<TensorResult> RunInSlices(ReadOnlyMemory<float> batch, long[] shape, IReadOnlyList<string> outputs, long fixedBatch)
    {
        long count = shape[0];
        int perSample = checked((int)shape.Skip(1).Aggregate(1L, (a, d) => a * d));
        long[] sliceShape = [fixedBatch, .. shape[1..]];
        var slice = new float[checked((int)(fixedBatch * perSample))];
        var parts = outputs.Select(_ => new List<TensorResult>()).ToArray();
        for (long start = 0; start < count; start += fixedBatch)
        {
            int rows = (int)Math.Min(fixedBatch, count - start);
            batch.Span.Slice((int)(start * perSample), rows * perSample).CopyTo(slice);
            slice.AsSpan(rows * perSample).Clear();
            var results = RunOnce(slice, sliceShape, outputs);
            for (int i = 0; i < results.Count; i++)
            {
                if (results[i].Shape.Length == 0 || results[i].Shape[0] != fixedBatch)
                {
                    throw new DsgException(ErrorCodes.OnnxRuntimeFailed,
                        $"'{DisplayName}' fixes its batch at {fixedBatch}, and its output '{results[i].Name}' [{string.Join(", ", results[i].Shape)}] does not have that batch first, so it cannot be run on {count} samples in slices.",
                        $"Re-export the model with a dynamic batch axis (dynamic_axes={{\"{InputName}\": {{0: \"batch\"}}}}).") { FilePath = DisplayName };
                }

                parts[i].Add(rows == fixedBatch ? results[i] : Take(results[i], rows));
            }
        }

        return parts.Select(Join).ToList();
    }

    private static TensorResult Take(TensorResult result, int rows)
    {
        long perRow = result.Shape.Skip(1).Aggregate(1L, (a, d) => a * d);
        var data = Array.CreateInstance(result.Data.GetType().GetElementType()!, rows * perRow);
        Array.Copy(result.Data, data, data.Length);
        return new TensorResult(result.Name, [rows, .. result.Shape[1..]], data);
    }

    private static TensorResult Join(List<TensorResult> parts)
    {
        long rows = parts.Sum(p => p.Shape[0]);
        var data = Array.CreateInstance(parts[0].Data.GetType().GetElementType()!, parts.Sum(p => p.Data.Length));
        int offset = 0;
        foreach (var part in parts)
        {
            Array.Copy(part.Data, 0, data, offset, part.Data.Length);
            offset += part.Data.Length;
        }

        return new TensorResult(parts[0].Name, [rows, .. parts[0].Shape[1..]], data);
    }

    private IReadOnlyList<TensorResult> RunOnce(ReadOnlyMemory<float> batch, long[] shape, IReadOnlyList<string> outputs)
    {
        try
        {
            using var input = _inputType == TensorElementType.Double
                ? OrtValue.CreateTensorValueFromMemory(ToDoubles(batch.Span), shape)
                : OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, System.Runtime.InteropServices.MemoryMarshal.AsMemory(batch), shape);
            using var values = _session.Run(_runOptions, [InputName], [input], outputs);
            var results = new List<TensorResult>(outputs.Count);
            for (int i = 0; i < outputs.Count; i++)
            {
                var info = values[i].GetTensorTypeAndShape();
                Array data = info.ElementDataType switch
                {
                    TensorElementType.Float => values[i].GetTensorDataAsSpan<float>().ToArray(),
                    TensorElementType.Double => values[i].GetTensorDataAsSpan<double>().ToArray(),
                    TensorElementType.Int8 => values[i].GetTensorDataAsSpan<sbyte>().ToArray(),
                    TensorElementType.UInt8 => values[i].GetTensorDataAsSpan<byte>().ToArray(),
                    TensorElementType.Int32 => values[i].GetTensorDataAsSpan<int>().ToArray(),
                    TensorElementType.Int64 => values[i].GetTensorDataAsSpan<long>().ToArray(),
                    _ => Array.Empty<float>(),
                };
                results.Add(new TensorResult(outputs[i], info.Shape, data));
            }

            return results;
        }
        catch (OnnxRuntimeException e)
        {
            throw Failed(DisplayName, "run", e);
        }
    }

    /// <summary>The element type ONNX Runtime gives output <paramref name="output"/> (results of types <see cref="Run"/> does not copy hold no values).</summary>
    internal TensorElementType ElementTypeOf(string output) => _session.OutputMetadata[output].ElementDataType;

    private static double[] ToDoubles(ReadOnlySpan<float> values)
    {
        var doubles = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            doubles[i] = values[i];
        }

        return doubles;
    }

    /// <summary>Runs a batch and returns the first graph output as float (the logits of a classifier).</summary>
    public float[] RunFirstOutput(ReadOnlyMemory<float> batch, long[] shape) => Run(batch, shape, [OutputNames[0]])[0].Floats;

    /// <inheritdoc />
    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
        DeleteTemporary();
    }

    private void DeleteTemporary()
    {
        if (_temporary is null)
        {
            return;
        }

        try
        {
            Directory.Delete(_temporary, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the copy lives in the system temp folder.
        }
    }

    private static DsgException Failed(string model, string what, OnnxRuntimeException e) =>
        new(ErrorCodes.OnnxRuntimeFailed, $"ONNX Runtime could not {what} '{model}': {e.Message}",
            "Check that the model loads in ONNX Runtime 1.31 on its own; if it does, report the model to the Dsg maintainers.", e)
        { FilePath = model };
}
