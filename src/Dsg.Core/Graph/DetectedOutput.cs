using System.Globalization;

namespace Dsg.Core.Graph;

/// <summary>The kind of a model's first output, and what it was decided from.</summary>
/// <param name="Kind">What the output holds.</param>
/// <param name="Name">The output's name.</param>
/// <param name="Shape">
/// Its dimensions, batch first; null for a dimension that is dynamic or unknown (the batch is always shown as N).
/// Empty when not even the rank is known.
/// </param>
/// <param name="ProducerOp">
/// The op type of the node that computes the values, looking past shape-only nodes (Flatten, Reshape, Squeeze,
/// Unsqueeze, Identity, Dropout); null when the output is a graph input or an initializer.
/// </param>
/// <param name="ProducerNode">That node's name (its first output's name when the node has none).</param>
/// <param name="OutputCount">How many outputs the model has; the first one decides.</param>
/// <param name="Source">How the kind was decided.</param>
public sealed record DetectedOutput(
    OutputKind Kind,
    string Name,
    IReadOnlyList<long?> Shape,
    string? ProducerOp,
    string? ProducerNode,
    int OutputCount,
    OutputKindSource Source)
{
    /// <summary>Whether the output holds class scores (logits, probabilities or log-probabilities).</summary>
    public bool IsClassScore => Kind is OutputKind.Logits or OutputKind.Probabilities or OutputKind.LogProbabilities;

    /// <summary>The kind's name as the tool prints it: <c>logits</c>, <c>probabilities</c>, <c>log-probabilities</c>, <c>embedding</c> or <c>dense</c>.</summary>
    public string KindName => OutputKindDetector.Name(Kind);

    /// <summary>The shape as text, for example <c>[N,512,1,1]</c> (<c>?</c> for an unknown dimension).</summary>
    public string ShapeText => Shape.Count == 0
        ? "[?]"
        : "[" + string.Join(",", Shape.Select((d, i) => i == 0 ? "N" : d?.ToString(CultureInfo.InvariantCulture) ?? "?")) + "]";

    /// <summary>One line for people, for example <c>probabilities [N,10] (Softmax 'prob')</c> or <c>embedding [N,512,1,1]</c>.</summary>
    public string Describe()
    {
        var text = $"{KindName} {ShapeText}";
        if (ProducerOp is not null)
        {
            text += $" ({ProducerOp} '{ProducerNode}')";
        }

        text += Source switch
        {
            OutputKindSource.Requested => ", as set by --output-kind",
            OutputKindSource.Probe => ", judged from a probe forward pass",
            _ => "",
        };
        if (OutputCount > 1)
        {
            text += string.Create(CultureInfo.InvariantCulture, $"; the first of {OutputCount} outputs decides");
        }

        return text;
    }
}
