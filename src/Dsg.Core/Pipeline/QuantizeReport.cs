using Dsg.Core.Graph;

namespace Dsg.Core.Pipeline;

/// <summary>What OUT.report.json holds.</summary>
public sealed record QuantizeReport
{
    /// <summary>The Dsg version.</summary>
    public required string DsgVersion { get; init; }

    /// <summary>The fp32 model's path.</summary>
    public required string Model { get; init; }

    /// <summary>The quantized model's path.</summary>
    public required string Output { get; init; }

    /// <summary>The default-domain opset of the fp32 model as its file declares it (the quantized model has at least 13).</summary>
    public long ModelOpset { get; init; }

    /// <summary>What importing the fp32 model rewrote (opset upgrade, Constant weights lifted); empty when nothing.</summary>
    public IReadOnlyList<string> Import { get; init; } = [];

    /// <summary>The precision, for example W4A4.</summary>
    public required string Precision { get; init; }

    /// <summary>The effective quantization options (as stored in the model's metadata).</summary>
    public required IReadOnlyDictionary<string, object> Options { get; init; }

    /// <summary>The sample source's name.</summary>
    public required string Source { get; init; }

    /// <summary>Where the samples came from, in words.</summary>
    public required string SourceDescription { get; init; }

    /// <summary>The input convention the synthetic samples followed (absent for real calibration data).</summary>
    public InputConvention? InputConvention { get; init; }

    /// <summary>What the generation budget chose (samples, iterations, the model's cost a sample); null when the source does not optimise.</summary>
    public string? Budget { get; init; }

    /// <summary>Calibration samples used.</summary>
    public required int CalibrationSamples { get; init; }

    /// <summary>Held-out samples the agreement was measured on.</summary>
    public required int HeldOutSamples { get; init; }

    /// <summary>The seed.</summary>
    public required int Seed { get; init; }

    /// <summary>Seconds per phase (generate, calibrate, write, verify) and in total.</summary>
    public required IReadOnlyDictionary<string, double> Seconds { get; init; }

    /// <summary>
    /// What the model's first output holds (<c>logits</c>, <c>probabilities</c>, <c>log-probabilities</c>,
    /// <c>embedding</c> or <c>dense</c>); it chose the class term and the agreement metric.
    /// </summary>
    public string OutputKind { get; init; } = "logits";

    /// <summary>The output in words: kind, shape, the node that computes it and how the kind was decided.</summary>
    public string? OutputDescription { get; init; }

    /// <summary>How <see cref="Agreement"/> was measured: <c>top-1</c> (class scores) or <c>cosine</c> (anything else).</summary>
    public string AgreementMetric { get; init; } = "top-1";

    /// <summary>Agreement with fp32 on the held-out samples: the top-1 fraction, or the mean cosine similarity of the first outputs.</summary>
    public required double Agreement { get; init; }

    /// <summary>The guard that was applied, if any.</summary>
    public double? MinAgreement { get; init; }

    /// <summary>SQNR of the first output on the held-out samples, in dB.</summary>
    public required double OutputSqnrDb { get; init; }

    /// <summary>BatchNormalization nodes folded into convolutions.</summary>
    public required int FoldedBatchNorms { get; init; }

    /// <summary>Biases stored as int32.</summary>
    public required int Int32Biases { get; init; }

    /// <summary>The fp32 model's file size.</summary>
    public required long Fp32Bytes { get; init; }

    /// <summary>The quantized model's file size.</summary>
    public required long QuantizedBytes { get; init; }

    /// <summary>Per weight layer.</summary>
    public required IReadOnlyList<LayerReport> Layers { get; init; }

    /// <summary>Per quantized activation.</summary>
    public required IReadOnlyList<ActivationReport> Activations { get; init; }

    /// <summary>Per refined layer (empty without refinement): its reconstruction error with nearest and with learned rounding.</summary>
    public IReadOnlyList<Quantization.Refinement.LayerRefinement> Refinement { get; init; } = [];
}
