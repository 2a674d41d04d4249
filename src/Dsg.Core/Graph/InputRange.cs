using System.Globalization;

namespace Dsg.Core.Graph;

/// <summary>The closed interval [<paramref name="Min"/>, <paramref name="Max"/>] every input value of a model lies in, in the model's input units.</summary>
/// <param name="Min">The smallest value (for example 0 for [0, 255] images).</param>
/// <param name="Max">The largest value; greater than <paramref name="Min"/>.</param>
public sealed record InputRange(double Min, double Max)
{
    /// <summary>The range as <c>[min, max]</c>, invariant culture.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"[{Min:G6}, {Max:G6}]");
}
