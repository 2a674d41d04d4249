using static TorchSharp.torch;

namespace Dsg.Core.Generation.Losses;

/// <summary>One weighted term of the generation loss.</summary>
internal abstract class LossTerm
{
    protected LossTerm(string name, double weight)
    {
        Name = name;
        Weight = weight;
    }

    /// <summary>Short name used in progress reports, curves and generation.json (for example <c>bn</c>).</summary>
    public string Name { get; }

    /// <summary>The term's weight in the total loss.</summary>
    public double Weight { get; }

    /// <summary>The unweighted scalar value of the term for the current iteration.</summary>
    public abstract Tensor Compute(LossContext context);
}
