using Dsg.Core.Graph;

namespace Dsg.Core.Generation;

/// <summary>
/// How DSG's class term (cross-entropy against random labels) fits a model's first output: on logits (and on
/// log-probabilities, where the cross-entropy is the same), as NLL on the log of the (clamped) probabilities, or off,
/// with a warning, when the output is not class scores.
/// </summary>
public static class ClassTerm
{
    /// <summary>Whether the class term can be used on an output of <paramref name="kind"/>.</summary>
    public static bool Applies(OutputKind kind) => kind is OutputKind.Logits or OutputKind.Probabilities or OutputKind.LogProbabilities;

    /// <summary>
    /// What the class term computes on an output of <paramref name="kind"/>: <c>cross-entropy on logits</c>,
    /// <c>cross-entropy on log-probabilities</c>, <c>NLL on log-probabilities</c> or <c>off</c>.
    /// </summary>
    public static string Describe(OutputKind kind) => kind switch
    {
        OutputKind.Logits => "cross-entropy on logits",
        OutputKind.LogProbabilities => "cross-entropy on log-probabilities",
        OutputKind.Probabilities => "NLL on log-probabilities",
        _ => "off",
    };

    /// <summary>
    /// The warning for a run whose options ask for the class term on an output that is not class scores; null when
    /// the term applies, or is not asked for (another method, or switched off).
    /// </summary>
    public static GenerationWarning? OffWarning(GenerationOptions options, OutputKind kind)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!LossComposition.WantsClassTerm(options) || Applies(kind))
        {
            return null;
        }

        string what = kind == OutputKind.Dense
            ? "a dense map (more than one value per channel and sample, as in segmentation)"
            : "an embedding (a feature vector that does not come from a classifier layer)";
        return new GenerationWarning(ErrorCodes.ClassTermOff,
            $"The class term is off: the model's first output is {what}, not class scores, so there are no classes to draw random labels for. " +
            "The BatchNorm statistics and the other terms still shape the samples. If the output does hold class scores, say so with --output-kind logits " +
            "(or probabilities); --without class turns the term off without this warning.");
    }
}
