using Dsg.Core.Evaluation;
using Dsg.Core.Quantization;

namespace Dsg.Core.Pipeline;

/// <summary>What a successful <see cref="QuantizePipeline.Run"/> wrote and measured.</summary>
/// <param name="OutputPath">The quantized model (absolute path).</param>
/// <param name="ReportPaths">OUT.report.json and OUT.report.md (absolute paths; empty when reports were off).</param>
/// <param name="Agreement">Agreement with fp32 on the held-out samples, measured by <see cref="Metric"/>.</param>
/// <param name="Seconds">Total seconds.</param>
/// <param name="Report">The report's content.</param>
/// <param name="Result">The in-memory models and sites.</param>
public sealed record QuantizeOutcome(string OutputPath, IReadOnlyList<string> ReportPaths, double Agreement, double Seconds,
    QuantizeReport Report, QuantizationResult Result)
{
    /// <summary>How <see cref="Agreement"/> was measured (top-1 for class scores, cosine similarity otherwise).</summary>
    public AgreementMetric Metric { get; init; } = AgreementMetric.TopOne;
}
