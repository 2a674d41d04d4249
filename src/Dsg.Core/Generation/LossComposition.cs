using Dsg.Core.Generation.Losses;
using Dsg.Core.Graph;

namespace Dsg.Core.Generation;

/// <summary>Chooses the loss terms of a method from the options.</summary>
internal static class LossComposition
{
    /// <summary>
    /// The terms for <paramref name="options"/>; <paramref name="margins"/> is used by DSG's SDA, and
    /// <paramref name="output"/> (the kind of the model's first output; null when not known) chooses the class term's
    /// form, or leaves it out when the output is not class scores.
    /// </summary>
    public static IReadOnlyList<LossTerm> For(GenerationOptions options, int batchNormLayers, BatchNormMargins margins, OutputKind? output)
    {
        var terms = new List<LossTerm>();
        switch (options.Method)
        {
            case GenerationMethod.ZeroQ:
                terms.Add(new BatchStatisticsAlignment(options.BatchNormWeight));
                terms.Add(new InputStatistics(options.InputStatisticsWeight));
                break;
            case GenerationMethod.Dsg:
                var enhancement = options.UseLayerwiseEnhancement ? new LayerwiseSampleEnhancement(options.EnhancementFactor) : null;
                terms.Add(new SlackDistributionAlignment(options.BatchNormWeight, margins, enhancement));
                if (options.PooledBatchNormWeight > 0)
                {
                    terms.Add(new BatchStatisticsAlignment(options.PooledBatchNormWeight, "bn-batch"));
                }

                if (options.UseInputStatistics)
                {
                    terms.Add(new InputStatistics(options.InputStatisticsWeight));
                }

                if (options.UseCorrelationInhibition)
                {
                    // The research code weighs GDPP by 1/L; the off-diagonal form takes the weight as given.
                    double weight = options.CorrelationForm == CorrelationForm.Gdpp
                        ? options.CorrelationWeight / batchNormLayers
                        : options.CorrelationWeight;
                    terms.Add(new SampleCorrelationInhibition(weight, options.CorrelationForm));
                }

                if (options.UseCrossEntropy && output is { } kind && ClassTerm.Applies(kind))
                {
                    terms.Add(kind == OutputKind.Probabilities
                        ? RandomLabelCrossEntropy.ForProbabilities(options.CrossEntropyWeight)
                        : RandomLabelCrossEntropy.ForLogits(options.CrossEntropyWeight));
                }

                if (options.UsePriors)
                {
                    terms.Add(new TotalVariation(options.TotalVariationWeight));
                    terms.Add(new JitteredL2Norm(options.L2Weight));
                }

                break;
            default:
                break;
        }

        return terms;
    }

    /// <summary>Whether the options ask for the class term (it is then used when the output holds class scores).</summary>
    public static bool WantsClassTerm(GenerationOptions options) => options.Method == GenerationMethod.Dsg && options.UseCrossEntropy;

    /// <summary>Whether the DSG images are shifted randomly before each forward pass.</summary>
    public static bool UsesJitter(GenerationOptions options) =>
        options.Method == GenerationMethod.Dsg && options.UsePriors && options.JitterPixels > 0;

    /// <summary>Whether the per-sample SDA margins are computed from a noise batch (otherwise they are zero).</summary>
    public static bool UsesMargins(GenerationOptions options) =>
        options.Method == GenerationMethod.Dsg && options.UseSlack && options.MarginQuantile > 0;
}
