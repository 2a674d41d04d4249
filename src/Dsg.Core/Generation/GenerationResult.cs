using Dsg.Core.Data;
using Dsg.Core.Graph;

namespace Dsg.Core.Generation;

/// <summary>
/// Samples and everything measured while making them. The result owns its samples (a large set lives in a scratch
/// file): dispose it, or hand <see cref="Samples"/> on to an owner that does.
/// </summary>
public sealed class GenerationResult : IDisposable
{
    /// <summary>Creates a result; <paramref name="samples"/> holds N×C×H×W float32 values in C order.</summary>
    public GenerationResult(CalibrationSet samples, double seconds, GenerationOptions options, string device,
        IReadOnlyList<LossCurve> curves, DiversityMetrics? diversity)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Shape.Length != 4)
        {
            throw new ArgumentException($"Shape ({string.Join(", ", samples.Shape)}) is not N x C x H x W.", nameof(samples));
        }

        Samples = samples;
        Shape = samples.Shape;
        Seconds = seconds;
        Options = options;
        Device = device;
        Curves = curves;
        Diversity = diversity;
    }

    /// <summary>The samples, N×C×H×W, in the model's input space (x = m + s·z for the convention in <see cref="GenerationOptions.Input"/>).</summary>
    public CalibrationSet Samples { get; }

    /// <summary>N, C, H, W.</summary>
    public long[] Shape { get; }

    /// <summary>Wall-clock seconds of the whole generation (margins, optimisation, metrics).</summary>
    public double Seconds { get; }

    /// <summary>The options used.</summary>
    public GenerationOptions Options { get; }

    /// <summary>The device generation ran on (<c>cpu</c> or <c>cuda</c>).</summary>
    public string Device { get; }

    /// <summary>Loss curves per term and <c>total</c> (empty for Gaussian noise).</summary>
    public IReadOnlyList<LossCurve> Curves { get; }

    /// <summary>Diversity (and fidelity) of the samples, computed the same way for every method; null when <see cref="GenerationOptions.MeasureDiversity"/> was off.</summary>
    public DiversityMetrics? Diversity { get; }

    /// <summary>
    /// The kind of the model's first output the class term was chosen for (given in the options, or judged from a
    /// noise batch); null when the class term was not asked for.
    /// </summary>
    public OutputKind? OutputKind { get; init; }

    /// <summary>What the class term computed: see <see cref="ClassTerm.Describe"/>; <c>off</c> when it was not used.</summary>
    public string ClassTermUsed => OutputKind is { } kind && LossComposition.WantsClassTerm(Options) ? ClassTerm.Describe(kind) : "off";

    /// <summary>The warnings of the run (also handed to the callback as they arose).</summary>
    public IReadOnlyList<GenerationWarning> Warnings { get; init; } = [];

    /// <summary>The curve of one term, or null when that term was not used.</summary>
    public LossCurve? Curve(string term) => Curves.FirstOrDefault(c => c.Term == term);

    /// <summary>Releases the samples' scratch file, if they have one.</summary>
    public void Dispose() => Samples.Dispose();
}
