using System.Globalization;

namespace Dsg.Core.Onnx;

/// <summary>
/// Bounds on what a model may declare, checked when it loads (<see cref="GraphValidator"/>), before any work: a
/// model past one is refused with a code that names the limit and the setting that raises it, instead of running
/// for hours or exhausting memory. The defaults (the one place they are written) take real ImageNet-size models with
/// room to spare: ResNet-50 has about 180 nodes and 100 MB of weights, EfficientNet-B7 about 1,300 nodes, 260 MB
/// and 600 x 600 inputs, VGG-16 550 MB.
/// </summary>
public sealed record ModelLimits
{
    /// <summary>The built-in limits.</summary>
    public static ModelLimits Default { get; } = new();

    /// <summary>
    /// The most values a model input may hold as declared: every static dimension multiplied (batch x channels x
    /// height x width; a dynamic batch counts as one sample), or one sample of the --input-shape given. Default
    /// 16,777,216 (2^24: a 3 x 2048 x 2048 sample has 12,582,912, a 3 x 224 x 224 ImageNet sample 150,528).
    /// </summary>
    public long MaxInputValues { get; init; } = 1L << 24;

    /// <summary>The most nodes the graph (with its sub-graphs) may have. Default 100,000.</summary>
    public long MaxNodes { get; init; } = 100_000;

    /// <summary>The most bytes all of the model's tensors (initializers, Constant values, external data) may hold. Default 4 GiB.</summary>
    public long MaxModelBytes { get; init; } = 4L << 30;

    /// <summary>Checks every limit is at least 1.</summary>
    /// <exception cref="DsgException"><see cref="ErrorCodes.BadOption"/>.</exception>
    public ModelLimits Validate()
    {
        foreach (var (name, value) in new[] { ("max-input-values", MaxInputValues), ("max-nodes", MaxNodes), ("max-model-size", MaxModelBytes) })
        {
            if (value < 1)
            {
                throw new DsgException(ErrorCodes.BadOption, $"Option '{name}' has the value '{value}'; it must be at least 1.",
                    $"Change --{name} to a positive value.");
            }
        }

        return this;
    }

    /// <summary>Refuses a graph of more than <see cref="MaxNodes"/> nodes.</summary>
    /// <exception cref="DsgException"><see cref="ErrorCodes.TooManyNodes"/>.</exception>
    public void CheckNodes(long nodes, string displayName)
    {
        if (nodes > MaxNodes)
        {
            throw new DsgException(ErrorCodes.TooManyNodes,
                $"'{displayName}' has {Count(nodes)} nodes, more than the limit of {Count(MaxNodes)}; nothing was run.",
                $"A real image model has a few thousand at most, so the file may be corrupt. If it is not, raise the limit with --max-nodes (dsg.json maxNodes, DSG_MAX_NODES), for example --max-nodes {Plain(Raised(nodes))}.")
            { FilePath = displayName };
        }
    }

    /// <summary>Refuses a model whose tensors hold more than <see cref="MaxModelBytes"/> bytes.</summary>
    /// <exception cref="DsgException"><see cref="ErrorCodes.ModelTooLarge"/>.</exception>
    public void CheckModelBytes(long bytes, string displayName)
    {
        if (bytes > MaxModelBytes)
        {
            throw new DsgException(ErrorCodes.ModelTooLarge,
                $"The tensors of '{displayName}' hold {Megabytes(bytes)} MB, more than the limit of {Megabytes(MaxModelBytes)} MB; nothing was read or run.",
                $"Check the model's dimensions (the file may be corrupt). If it is this large, raise the limit with --max-model-size (dsg.json maxModelSize, DSG_MAX_MODEL_SIZE), for example --max-model-size {Math.Max(1, (Raised(bytes) + (1L << 30) - 1) >> 30)}GB.")
            { FilePath = displayName };
        }
    }

    /// <summary>Refuses an input that declares more than <see cref="MaxInputValues"/> values.</summary>
    /// <param name="dims">The input's dimensions; values below 1 (dynamic or unknown) are skipped.</param>
    /// <param name="input">The input's name.</param>
    /// <param name="displayName">The model, for the message.</param>
    /// <param name="declared">True when the dimensions are one sample of the --input-shape given, not the model's own.</param>
    /// <exception cref="DsgException"><see cref="ErrorCodes.InputTooLarge"/>.</exception>
    public void CheckInputValues(IEnumerable<long> dims, string input, string displayName, bool declared = false)
    {
        var known = dims.Where(d => d >= 1).ToList();
        long values = 1;
        foreach (var d in known)
        {
            values = values > long.MaxValue / d ? long.MaxValue : values * d;
        }

        if (known.Count > 0 && values > MaxInputValues)
        {
            string size = string.Join(" x ", known.Select(Count));
            throw new DsgException(ErrorCodes.InputTooLarge,
                declared
                    ? $"--input-shape makes a sample of input '{input}' of '{displayName}' {size} = {Count(values)} values, more than the limit of {Count(MaxInputValues)}; nothing was run."
                    : $"Input '{input}' of '{displayName}' is declared as {size} = {Count(values)} values, more than the limit of {Count(MaxInputValues)}; nothing was run.",
                $"{(declared ? "Declare the size the model was trained at" : "Check the input shape the model was exported with (the file may be corrupt)")}. To quantize at this size anyway, raise the limit with --max-input-values (dsg.json maxInputValues, DSG_MAX_INPUT_VALUES), for example --max-input-values {Plain(Raised(values))}; every value costs generation time and memory.")
            { FilePath = displayName };
        }
    }

    /// <summary>A value to suggest as the new limit: the need rounded up to two significant digits.</summary>
    private static long Raised(long need)
    {
        if (need < 100)
        {
            return need;
        }

        long scale = 1;
        while (need / scale >= 100)
        {
            scale *= 10;
        }

        long rounded = (need + scale - 1) / scale;
        return rounded > long.MaxValue / scale ? long.MaxValue : rounded * scale;
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Plain(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Megabytes(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("N1", CultureInfo.InvariantCulture);
}
