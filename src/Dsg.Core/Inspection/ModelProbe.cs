using Dsg.Core.Graph;
using Dsg.Core.Onnx;
using Dsg.Core.Runtime;
using TorchSharp;

namespace Dsg.Core.Inspection;

/// <summary>
/// The last step of the readiness pass: a batch of two N(0, 1) samples (the declared batch for a model that fixes it;
/// two, because every run uses batches above one and a mutated Flatten or Reshape may only break then) through ONNX
/// Runtime, which calibrates and verifies every quantize, and through the TorchSharp executor, which generates. A model
/// whose shapes do not fit together, or whose outputs are NaN or infinite (NaN weights, a negative BatchNorm variance),
/// fails here, in a fraction of a second, rather than after the generation it would otherwise have started.
/// </summary>
internal static class ModelProbe
{
    /// <summary>The problems running the model raises (none when it runs).</summary>
    /// <param name="model">The imported model.</param>
    /// <param name="sampleShape">C, H, W.</param>
    /// <param name="runExecutor">Whether to run the executor as well.</param>
    public static IReadOnlyList<Problem> Run(OnnxModel model, long[] sampleShape, bool runExecutor)
    {
        long[] shape = [TorchGraph.DeclaredBatch(model) ?? 2, .. sampleShape];
        var data = ExecutorVerifier.StandardNormal(0, checked((int)shape.Aggregate(1L, (a, d) => a * d)));
        try
        {
            using var runner = new OnnxRuntimeRunner(model);
            foreach (var output in runner.Run(data, shape))
            {
                if (output.Data is float[] values && !values.All(float.IsFinite))
                {
                    return [new Problem(ErrorCodes.CalibrationNotFinite,
                        $"'{model.DisplayName}' computes NaN or infinity in output '{output.Name}' on N(0, 1) input, so no calibration range can be measured.",
                        "Check the model's weights (NaN or infinite values, a negative BatchNorm variance, a negative epsilon); export it again from a model that runs.")];
                }
            }
        }
        catch (DsgException e)
        {
            return [new Problem(e.Code, e.Message, e.Hint)];
        }

        if (!runExecutor)
        {
            return [];
        }

        try
        {
            using var graph = TorchGraph.CreateForGeneration(model, new TorchGraphOptions(sampleShape, "cpu"));
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            graph.Forward(torch.tensor(data, shape, torch.ScalarType.Float32));
        }
        catch (DsgException e)
        {
            return [new Problem(e.Code, e.Message, e.Hint) { Scope = ProblemScope.Executor }];
        }

        return [];
    }
}
