namespace Dsg.Core.Graph;

/// <summary>
/// The mean and variance of a 2-D convolution's output channels, averaged over output positions, as functions of the
/// per-channel mean m[c] and standard deviation s[c] of its input, and the inverse: m and one common s fitted to a
/// BatchNorm's running statistics. With f_p the fraction of output positions whose in-image taps form pattern p and
/// S_p[o,c] = Σ_{k in p} W[o,c,k]:
/// <list type="bullet">
/// <item>E[out[o]] = b[o] + Σ_c m[c]·G[o,c], G[o,c] = Σ_p f_p·S_p[o,c] (= Σ_k W[o,c,k]·f_k);</item>
/// <item>Var[out[o]] ≈ Σ_c s[c]²·A[o,c] + Var_p(Σ_c m[c]·S_p[o,c]), A = ½·Σ_p f_p·Σ_{k in p} W² (independent pixels)
/// + ½·Σ_p f_p·S_p² (pixels of a channel fully correlated); the last term is the spread of the mean between border
/// and interior positions.</item>
/// </list>
/// </summary>
internal sealed class ConvolutionMoments
{
    private readonly double[][,] _tapSums;
    private readonly double[] _fractions;
    private readonly double[] _bias;
    private readonly double[,] _gain;
    private readonly double[,] _spread;

    private ConvolutionMoments(double[][,] tapSums, double[] fractions, double[] bias, double[,] gain, double[,] spread)
    {
        _tapSums = tapSums;
        _fractions = fractions;
        _bias = bias;
        _gain = gain;
        _spread = spread;
    }

    private int Outputs => _gain.GetLength(0);

    private int Channels => _gain.GetLength(1);

    /// <summary>The moments of a convolution with weights O × (C/groups) × kH × kW (C order) and bias over <paramref name="coverage"/>.</summary>
    public static ConvolutionMoments Compute(float[] weights, float[] bias, int outputs, int groupInputs, int groups, long[] kernel,
        ConvTapCoverage coverage)
    {
        int channels = groupInputs * groups, perGroup = outputs / groups;
        int kh = (int)kernel[0], kw = (int)kernel[1];
        var patterns = coverage.Patterns;
        var tapSums = new double[patterns.Count][,];
        var fractions = patterns.Select(p => p.Fraction).ToArray();
        var gain = new double[outputs, channels];
        var spread = new double[outputs, channels];
        for (int p = 0; p < patterns.Count; p++)
        {
            var (rows, columns, fraction) = patterns[p];
            var sums = tapSums[p] = new double[outputs, channels];
            for (int o = 0; o < outputs; o++)
            {
                for (int j = 0; j < groupInputs; j++)
                {
                    int c = ((o / perGroup) * groupInputs) + j;
                    double sum = 0, squares = 0;
                    for (int y = 0; y < kh; y++)
                    {
                        if (!rows[y])
                        {
                            continue;
                        }

                        for (int x = 0; x < kw; x++)
                        {
                            if (columns[x])
                            {
                                double w = weights[((((o * groupInputs) + j) * kh) + y) * kw + x];
                                sum += w;
                                squares += w * w;
                            }
                        }
                    }

                    sums[o, c] = sum;
                    gain[o, c] += fraction * sum;
                    spread[o, c] += fraction * 0.5 * (squares + (sum * sum));
                }
            }
        }

        return new ConvolutionMoments(tapSums, fractions, bias.Select(b => (double)b).ToArray(), gain, spread);
    }

    /// <summary>E[out[o]] for an input with per-channel mean <paramref name="mean"/>.</summary>
    public double[] ExpectedMean(IReadOnlyList<double> mean)
    {
        var result = new double[Outputs];
        for (int o = 0; o < Outputs; o++)
        {
            result[o] = _bias[o];
            for (int c = 0; c < Channels; c++)
            {
                result[o] += mean[c] * _gain[o, c];
            }
        }

        return result;
    }

    /// <summary>Var[out[o]] under the model above for per-channel mean <paramref name="mean"/> and standard deviation <paramref name="std"/>.</summary>
    public double[] ExpectedVariance(IReadOnlyList<double> mean, IReadOnlyList<double> std)
    {
        var result = BorderSpread(mean);
        for (int o = 0; o < Outputs; o++)
        {
            for (int c = 0; c < Channels; c++)
            {
                result[o] += std[c] * std[c] * _spread[o, c];
            }
        }

        return result;
    }

    /// <summary>
    /// m per channel by least squares of the running means over output channels (one common m when the channels
    /// cannot be told apart), then one common s: the median over output channels of the variance left after the
    /// border spread, divided by Σ_c A[o,c]. Null when nothing can be fitted or the result is not finite and positive.
    /// </summary>
    public (double[] Mean, double Std)? Fit(IReadOnlyList<float> runningMean, IReadOnlyList<float> runningVariance)
    {
        var target = new double[Outputs];
        for (int o = 0; o < Outputs; o++)
        {
            target[o] = runningMean[o] - _bias[o];
        }

        var mean = SolveChannelMeans(target) ?? SolveCommonMean(target);
        if (mean is null || mean.Any(m => !double.IsFinite(m)))
        {
            return null;
        }

        var border = BorderSpread(mean);
        var gains = new double[Outputs];
        for (int o = 0; o < Outputs; o++)
        {
            for (int c = 0; c < Channels; c++)
            {
                gains[o] += _spread[o, c];
            }
        }

        double largest = gains.DefaultIfEmpty(0).Max();
        var ratios = new List<double>();
        for (int o = 0; o < Outputs; o++)
        {
            double left = runningVariance[o] - border[o];
            if (gains[o] > 1e-12 * largest && left > 0 && double.IsFinite(left))
            {
                ratios.Add(left / gains[o]);
            }
        }

        if (largest <= 0 || ratios.Count == 0)
        {
            return null;
        }

        ratios.Sort();
        double median = ratios.Count % 2 == 1 ? ratios[ratios.Count / 2] : (ratios[(ratios.Count / 2) - 1] + ratios[ratios.Count / 2]) / 2;
        double std = Math.Sqrt(median);
        return double.IsFinite(std) && std > 0 ? (mean, std) : null;
    }

    /// <summary>Var over output positions of the mean at each position (border positions miss some taps).</summary>
    private double[] BorderSpread(IReadOnlyList<double> mean)
    {
        var result = new double[Outputs];
        for (int o = 0; o < Outputs; o++)
        {
            double average = 0, square = 0;
            for (int p = 0; p < _tapSums.Length; p++)
            {
                double at = 0;
                for (int c = 0; c < Channels; c++)
                {
                    at += mean[c] * _tapSums[p][o, c];
                }

                average += _fractions[p] * at;
                square += _fractions[p] * at * at;
            }

            result[o] = Math.Max(0, square - (average * average));
        }

        return result;
    }

    /// <summary>Least squares G·m ≈ target through the normal equations; null when GᵀG is (nearly) singular.</summary>
    private double[]? SolveChannelMeans(double[] target)
    {
        int n = Channels;
        var a = new double[n, n + 1];
        for (int i = 0; i < n; i++)
        {
            for (int o = 0; o < Outputs; o++)
            {
                for (int j = 0; j < n; j++)
                {
                    a[i, j] += _gain[o, i] * _gain[o, j];
                }

                a[i, n] += _gain[o, i] * target[o];
            }
        }

        double scale = Enumerable.Range(0, n).Max(i => a[i, i]);
        if (!(scale > 0))
        {
            return null;
        }

        for (int column = 0; column < n; column++)
        {
            int pivot = Enumerable.Range(column, n - column).MaxBy(r => Math.Abs(a[r, column]));
            if (Math.Abs(a[pivot, column]) < 1e-9 * scale)
            {
                return null;
            }

            for (int j = 0; j <= n; j++)
            {
                (a[column, j], a[pivot, j]) = (a[pivot, j], a[column, j]);
            }

            for (int r = 0; r < n; r++)
            {
                if (r == column)
                {
                    continue;
                }

                double factor = a[r, column] / a[column, column];
                for (int j = column; j <= n; j++)
                {
                    a[r, j] -= factor * a[column, j];
                }
            }
        }

        return Enumerable.Range(0, n).Select(i => a[i, n] / a[i, i]).ToArray();
    }

    /// <summary>One mean for every channel: least squares of target ≈ m·Σ_c G[o,c].</summary>
    private double[]? SolveCommonMean(double[] target)
    {
        double numerator = 0, denominator = 0;
        for (int o = 0; o < Outputs; o++)
        {
            double g = 0;
            for (int c = 0; c < Channels; c++)
            {
                g += _gain[o, c];
            }

            numerator += g * target[o];
            denominator += g * g;
        }

        return denominator > 0 ? Enumerable.Repeat(numerator / denominator, Channels).ToArray() : null;
    }
}
