using Dsg.Core.Onnx;

namespace Dsg.Core.Inspection;

/// <summary>What the readiness pass (<see cref="ModelInspector"/>) is told about a run: the declared input shape and the limits.</summary>
public sealed record ReadinessOptions
{
    /// <summary>The built-in options: no declared shape, the default limits, the model run once.</summary>
    public static ReadinessOptions Default { get; } = new();

    /// <summary>C,H,W declared by the user; it clears the dynamic-shape problem and is checked against the limits.</summary>
    public IReadOnlyList<long>? InputShape { get; init; }

    /// <summary>The limits on declared sizes. Default <see cref="ModelLimits.Default"/>.</summary>
    public ModelLimits Limits { get; init; } = ModelLimits.Default;

    /// <summary>Whether to run one sample through ONNX Runtime (and the executor) when nothing else stops the model. Default true.</summary>
    public bool RunModel { get; init; } = true;

    /// <summary>Whether that sample also runs through the TorchSharp executor. Default true.</summary>
    public bool RunExecutor { get; init; } = true;
}
