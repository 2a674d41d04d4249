namespace Dsg.Core.Inspection;

/// <summary>The comparison of the TorchSharp executor with ONNX Runtime on one batch.</summary>
/// <param name="Outputs">One entry per graph output.</param>
/// <param name="BatchSize">The batch size used.</param>
/// <param name="Seed">The seed of the N(0,1) batch; -1 when the data was supplied by the caller.</param>
public sealed record VerifyResult(IReadOnlyList<OutputDifference> Outputs, int BatchSize, int Seed)
{
    /// <summary>The largest difference over all outputs (0 when there are none).</summary>
    public double MaxAbsDifference => Outputs.Count == 0 ? 0 : Outputs.Max(o => o.MaxAbsDifference);
}
