using System.Globalization;

namespace Dsg.Core.Evaluation;

/// <summary>Computes and names each <see cref="AgreementMetric"/>.</summary>
public static class AgreementMetrics
{
    /// <summary>The short name in reports and JSON: <c>top-1</c> or <c>cosine</c>.</summary>
    public static string Name(AgreementMetric metric) => metric switch
    {
        AgreementMetric.TopOne => "top-1",
        AgreementMetric.Cosine => "cosine",
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, null),
    };

    /// <summary>The metric in words: <c>top-1 agreement</c> or <c>mean cosine similarity</c>.</summary>
    public static string Describe(AgreementMetric metric) => metric switch
    {
        AgreementMetric.TopOne => "top-1 agreement",
        AgreementMetric.Cosine => "mean cosine similarity",
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, null),
    };

    /// <summary>The metric read back from its <see cref="Name"/>; null for any other text.</summary>
    public static AgreementMetric? Parse(string? name) => name switch
    {
        "top-1" => AgreementMetric.TopOne,
        "cosine" => AgreementMetric.Cosine,
        _ => null,
    };

    /// <summary>A value of the metric as text: a percentage for top-1 agreement, four decimals for cosine similarity.</summary>
    public static string Format(AgreementMetric metric, double value) =>
        metric == AgreementMetric.TopOne ? value.ToString("P2", CultureInfo.InvariantCulture) : value.ToString("0.0000", CultureInfo.InvariantCulture);

    /// <summary>
    /// The sum over samples of the metric's per-sample value, for <paramref name="count"/> samples whose outputs lie
    /// one after another in <paramref name="reference"/> and <paramref name="candidate"/> (divide by the sample count
    /// for the mean): 1 or 0 per sample for top-1, the cosine similarity for cosine.
    /// </summary>
    public static double Sum(AgreementMetric metric, ReadOnlySpan<float> reference, ReadOnlySpan<float> candidate, int count)
    {
        if (reference.Length != candidate.Length)
        {
            throw new ArgumentException("Both outputs must have the same number of values.", nameof(candidate));
        }

        if (count <= 0)
        {
            return 0;
        }

        int width = reference.Length / count;
        double sum = 0;
        for (int n = 0; n < count; n++)
        {
            var a = reference.Slice(n * width, width);
            var b = candidate.Slice(n * width, width);
            sum += metric == AgreementMetric.TopOne ? (ArgMax(a) == ArgMax(b) ? 1 : 0) : CosineSimilarity(a, b);
        }

        return sum;
    }

    /// <summary>
    /// a·b / (|a| |b|), in double precision. Two zero vectors are identical (1); a zero vector and another are not
    /// alike at all (0).
    /// </summary>
    public static double CosineSimilarity(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            aa += (double)a[i] * a[i];
            bb += (double)b[i] * b[i];
        }

        if (aa == 0 || bb == 0)
        {
            return aa == bb ? 1 : 0;
        }

        return Math.Clamp(dot / (Math.Sqrt(aa) * Math.Sqrt(bb)), -1, 1);
    }

    /// <summary>The index of the largest value (the first one on ties).</summary>
    internal static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int c = 1; c < row.Length; c++)
        {
            if (row[c] > row[best])
            {
                best = c;
            }
        }

        return best;
    }
}
