namespace Dsg.Core.Quantization.Refinement;

/// <summary>Progress of a refinement: step <paramref name="Step"/> of <paramref name="Steps"/> of layer <paramref name="Layer"/> of <paramref name="Layers"/>.</summary>
/// <param name="Layer">The layer being refined, 1-based.</param>
/// <param name="Layers">The layers to refine.</param>
/// <param name="Node">The layer's node.</param>
/// <param name="Step">Steps done on this layer.</param>
/// <param name="Steps">Steps per layer.</param>
/// <param name="Loss">The last batch's reconstruction error.</param>
/// <param name="Unit">What is refined one at a time: "layer" (AdaRound) or "block" (BRECQ, where <paramref name="Node"/> is the block's first weighted node).</param>
public sealed record RefinementProgress(int Layer, int Layers, string Node, int Step, int Steps, double Loss, string Unit = "layer")
{
    /// <summary>Steps done over every layer.</summary>
    public long Done => (long)(Layer - 1) * Steps + Step;

    /// <summary>Steps over every layer.</summary>
    public long Total => (long)Layers * Steps;

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Unit} {Layer}/{Layers} {Node} step {Step}/{Steps} error {Loss:G4}");
}
