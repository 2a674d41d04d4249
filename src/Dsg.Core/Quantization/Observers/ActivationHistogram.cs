namespace Dsg.Core.Quantization.Observers;

/// <summary>
/// A fixed number of equal bins over the range seen so far. When a batch falls outside the range, the range
/// grows and the old counts move to the new bins by their centres.
/// </summary>
internal sealed class ActivationHistogram
{
    private ObservedRange _range;
    private double[] _counts;

    public ActivationHistogram(int bins = 2048)
    {
        _counts = new double[bins];
    }

    public int Bins => _counts.Length;

    /// <summary>Lower edge of the first bin.</summary>
    public double Lo { get; private set; }

    /// <summary>Upper edge of the last bin.</summary>
    public double Hi { get; private set; }

    public double Width => (Hi - Lo) / Bins;

    public ReadOnlySpan<double> Counts => _counts;

    public (float Min, float Max) Observed => _range.Value;

    public bool Any => _range.Any;

    public double Total { get; private set; }

    public double Center(int bin) => Lo + (bin + 0.5) * Width;

    public void Add(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty)
        {
            return;
        }

        bool first = !_range.Any;
        _range.Add(values);
        if (first)
        {
            Lo = _range.Min;
            Hi = _range.Max > _range.Min ? _range.Max : _range.Min + 1e-6;
        }
        else if (_range.Min < Lo || _range.Max > Hi)
        {
            Rebin(Math.Min(Lo, _range.Min), Math.Max(Hi, _range.Max));
        }

        double scale = Bins / (Hi - Lo);
        foreach (float v in values)
        {
            int bin = (int)((v - Lo) * scale);
            _counts[Math.Clamp(bin, 0, Bins - 1)]++;
        }

        Total += values.Length;
    }

    /// <summary>The value below which <paramref name="fraction"/> of all values lie (linear inside a bin).</summary>
    public double Quantile(double fraction)
    {
        double target = Math.Clamp(fraction, 0, 1) * Total, cumulative = 0;
        for (int i = 0; i < Bins; i++)
        {
            if (cumulative + _counts[i] >= target && _counts[i] > 0)
            {
                double within = (target - cumulative) / _counts[i];
                return Lo + (i + within) * Width;
            }

            cumulative += _counts[i];
        }

        return Hi;
    }

    private void Rebin(double lo, double hi)
    {
        var old = _counts;
        double oldLo = Lo, oldWidth = Width;
        _counts = new double[old.Length];
        Lo = lo;
        Hi = hi;
        double scale = Bins / (Hi - Lo);
        for (int i = 0; i < old.Length; i++)
        {
            if (old[i] != 0)
            {
                double center = oldLo + (i + 0.5) * oldWidth;
                _counts[Math.Clamp((int)((center - Lo) * scale), 0, Bins - 1)] += old[i];
            }
        }
    }
}
