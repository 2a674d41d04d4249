using Dsg.Core.Inspection;
using Dsg.Core.Onnx;
using Dsg.Tool.Configuration;

namespace Dsg.Tool.Commands;

/// <summary>What <c>inspect --verify</c> measured: each output's max absolute difference between the TorchSharp executor and ONNX Runtime.</summary>
internal sealed record InspectVerification(int BatchSize, int Seed, IReadOnlyList<(string Name, double MaxAbsDifference)> Outputs, double MaxAbsDifference)
{
    /// <summary>Runs both engines on one random N(0,1) batch of <see cref="DsgOptions.BatchSize"/> samples (the declared batch for a model that fixes it; seed <see cref="DsgOptions.Seed"/>).</summary>
    public static InspectVerification Run(OnnxModel model, DsgOptions options)
    {
        if (options.Threads > 0)
        {
            TorchSharp.torch.set_num_threads(options.Threads);
        }

        var result = ExecutorVerifier.Verify(model, options.BatchSize, options.Seed, options.InputShape);
        // A model that fixes its batch is verified at that batch: report the batch that ran.
        return new InspectVerification(result.BatchSize, result.Seed,
            result.Outputs.Select(o => (o.Name, o.MaxAbsDifference)).ToList(), result.MaxAbsDifference);
    }
}
