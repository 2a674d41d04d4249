using Dsg.Core.Graph;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Import;
using Dsg.Core.Onnx.Proto;
using Dsg.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Inspection;

/// <summary>
/// Runs the same batch through the TorchSharp executor, on the imported model (weights lifted, opset upgraded), and
/// through ONNX Runtime (CPU execution provider) on the model as the file has it, and compares the outputs: the
/// difference covers the import as well as the executor. Both runs are of the fp32 model (what <c>dsg inspect --verify</c>
/// shows); Evaluation's QuantizationVerifier, by contrast, measures a quantized model against its fp32 model.
/// </summary>
public static class ExecutorVerifier
{
    /// <summary>Compares on a batch of N(0,1) samples drawn from <paramref name="seed"/>.</summary>
    /// <param name="model">The model.</param>
    /// <param name="batchSize">The batch size (at least 1); a model that fixes its batch is run with that batch instead.</param>
    /// <param name="seed">The seed of the samples.</param>
    /// <param name="inputShape">C,H,W when the model's input has dynamic non-batch dimensions.</param>
    /// <exception cref="DsgException">What <see cref="TorchGraph.Create"/> throws; DSG0504 when ONNX Runtime cannot run the model.</exception>
    public static VerifyResult Verify(OnnxModel model, int batchSize = 2, int seed = 0, IReadOnlyList<long>? inputShape = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        using var graph = TorchGraph.Create(ModelImporter.Import(model).Model, new TorchGraphOptions(inputShape));
        // ONNX Runtime only accepts the declared batch when the model fixes it.
        long[] shape = [TorchGraph.DeclaredBatch(model) ?? batchSize, .. graph.InputShape];
        var data = StandardNormal(seed, checked((int)shape.Aggregate(1L, (a, d) => a * d)));
        return Compare(model, graph, data, shape, seed);
    }

    /// <summary>Compares on the given data (float32, row-major, <paramref name="shape"/> = N x C x H x W).</summary>
    /// <exception cref="DsgException">What <see cref="TorchGraph.Create"/> throws; DSG0501 when the data does not fit; DSG0504 when ONNX Runtime cannot run the model.</exception>
    public static VerifyResult VerifyOnData(OnnxModel model, float[] data, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length < 1 || shape.Aggregate(1L, (a, d) => a * d) != data.Length)
        {
            throw new DsgException(ErrorCodes.ExecutorInputMismatch,
                $"{data.Length} values do not make a batch of shape [{string.Join(", ", shape)}].",
                "Pass the data row-major with its full shape, batch first.");
        }

        using var graph = TorchGraph.Create(ModelImporter.Import(model).Model, new TorchGraphOptions(shape[1..]));
        return Compare(model, graph, data, shape, -1);
    }

    private static VerifyResult Compare(OnnxModel model, TorchGraph graph, float[] data, long[] shape, int seed)
    {
        var expected = RunOnnxRuntime(model, data, shape);
        var differences = new List<OutputDifference>();
        using (torch.NewDisposeScope())
        using (torch.no_grad())
        {
            var input = torch.tensor(data, shape, ScalarType.Float32);
            var outputs = graph.Forward(input).Outputs;
            for (int i = 0; i < graph.OutputNames.Count; i++)
            {
                var name = graph.OutputNames[i];
                var (values, expectedShape) = expected[name];
                double difference = outputs[i].shape.SequenceEqual(expectedShape)
                    ? MaxAbsDifference(TensorProtoConverter.ToDoubles(outputs[i]), values)
                    : double.PositiveInfinity;
                differences.Add(new OutputDifference(name, difference));
            }
        }

        return new VerifyResult(differences, (int)shape[0], seed);
    }

    private static Dictionary<string, (double[] Values, long[] Shape)> RunOnnxRuntime(OnnxModel model, float[] data, long[] shape)
    {
        try
        {
            using var runner = new OnnxRuntimeRunner(model);
            var map = new Dictionary<string, (double[], long[])>(StringComparer.Ordinal);
            foreach (var result in runner.Run(data, shape))
            {
                double[] values = result.Data switch
                {
                    float[] f => Array.ConvertAll(f, v => (double)v),
                    double[] d => d,
                    long[] l => Array.ConvertAll(l, v => (double)v),
                    int[] i => Array.ConvertAll(i, v => (double)v),
                    _ => throw new DsgException(ErrorCodes.VerificationFailed,
                        $"Output '{result.Name}' of '{model.DisplayName}' has element type {runner.ElementTypeOf(result.Name)}, which verification does not compare.",
                        "Verification compares float, double and integer outputs."),
                };
                if (values.LongLength != result.Shape.Aggregate(1L, (a, d) => a * d))
                {
                    // The runner copies float, double and integer outputs; any other type comes back empty.
                    throw new DsgException(ErrorCodes.VerificationFailed,
                        $"Output '{result.Name}' of '{model.DisplayName}' has element type {runner.ElementTypeOf(result.Name)}, which verification does not compare.",
                        "Verification compares float, double and integer outputs.");
                }

                map[result.Name] = (values, result.Shape);
            }

            return map;
        }
        catch (DsgException e) when (e.Code == ErrorCodes.OnnxRuntimeFailed)
        {
            throw new DsgException(ErrorCodes.VerificationFailed, e.Message,
                "Check that the model is valid ONNX (onnx.checker.check_model) and uses operators ONNX Runtime's CPU provider implements.",
                e) { FilePath = model.DisplayName };
        }
    }

    private static double MaxAbsDifference(double[] actual, double[] expected)
    {
        double max = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            bool nanA = double.IsNaN(actual[i]);
            bool nanE = double.IsNaN(expected[i]);
            if (nanA || nanE)
            {
                if (nanA != nanE)
                {
                    return double.PositiveInfinity;
                }

                continue;
            }

            if (actual[i] == expected[i])
            {
                continue;
            }

            max = Math.Max(max, Math.Abs(actual[i] - expected[i]));
        }

        return max;
    }

    /// <summary>Deterministic N(0,1) samples (Box–Muller over System.Random), the same on every platform.</summary>
    internal static float[] StandardNormal(int seed, int count)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i += 2)
        {
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            double radius = Math.Sqrt(-2.0 * Math.Log(u1));
            values[i] = (float)(radius * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < count)
            {
                values[i + 1] = (float)(radius * Math.Sin(2 * Math.PI * u2));
            }
        }

        return values;
    }
}
