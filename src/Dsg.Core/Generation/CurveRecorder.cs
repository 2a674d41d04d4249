namespace Dsg.Core.Generation;

/// <summary>Collects the loss curves of a run (weighted term values and the total) at the curve stride.</summary>
internal sealed class CurveRecorder
{
    private readonly List<string> _names;
    private readonly Dictionary<string, List<LossPoint>> _points;

    public CurveRecorder(IEnumerable<Losses.LossTerm> terms)
    {
        _names = ["total", .. terms.Select(t => t.Name)];
        _points = _names.ToDictionary(n => n, _ => new List<LossPoint>());
    }

    public void Add(int batch, int iteration, double total, IReadOnlyDictionary<string, double> terms)
    {
        _points["total"].Add(new LossPoint(batch, iteration, total));
        foreach (var (name, value) in terms)
        {
            _points[name].Add(new LossPoint(batch, iteration, value));
        }
    }

    public IReadOnlyList<LossCurve> Curves() =>
        _points["total"].Count == 0 ? [] : _names.Select(n => new LossCurve(n, _points[n].ToArray())).ToArray();
}
