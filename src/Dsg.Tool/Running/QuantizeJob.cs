using Dsg.Core.Evaluation;
using Dsg.Core.Onnx;
using Dsg.Tool.Configuration;
using Dsg.Tool.Output;

namespace Dsg.Tool.Running;

/// <summary>One quantization to produce: the loaded model, the effective settings, and the folder the files go to.</summary>
/// <param name="ModelPath">The model file (absolute).</param>
/// <param name="Model">The validated fp32 model.</param>
/// <param name="Options">The effective settings.</param>
/// <param name="Directory">
/// An empty staging folder (inside the cache, or private with --no-cache). The producer writes <c>model.onnx</c>,
/// <c>model.report.json</c> and <c>model.report.md</c> there (<see cref="OutputPublisher.ProducedStem"/>).
/// </param>
/// <param name="Reporter">Where phase and progress events go.</param>
internal sealed record QuantizeJob(string ModelPath, OnnxModel Model, DsgOptions Options, string Directory, Reporter Reporter);

/// <summary>What a producer measured while quantizing.</summary>
/// <param name="Agreement">Agreement of the quantized model with fp32 on held-out samples, if measured.</param>
/// <param name="Metric">How it was measured: top-1 for class scores, cosine similarity otherwise (top-1 when not given).</param>
internal sealed record QuantizeProduct(double? Agreement, AgreementMetric? Metric = null);

/// <summary>Produces the files of a <see cref="QuantizeJob"/>.</summary>
internal delegate Task<QuantizeProduct> QuantizeProducer(QuantizeJob job, CancellationToken cancellationToken);
