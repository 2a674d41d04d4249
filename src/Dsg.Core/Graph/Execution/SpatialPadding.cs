namespace Dsg.Core.Graph.Execution;

/// <summary>ONNX spatial padding: explicit pads, auto_pad and the conversion to TorchSharp's pad order.</summary>
internal static class SpatialPadding
{
    /// <summary>The auto_pad values the executor understands.</summary>
    public static readonly string[] AutoPadModes = ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"];

    /// <summary>
    /// Pads [x1_begin, ..., xr_begin, x1_end, ..., xr_end] for SAME_UPPER / SAME_LOWER: the output is
    /// ceil(input / stride) and the odd pixel goes to the end (UPPER) or the beginning (LOWER).
    /// </summary>
    public static long[] Same(bool upper, ReadOnlySpan<long> inputSpatial, long[] kernel, long[] strides, long[] dilations)
    {
        int r = kernel.Length;
        var pads = new long[2 * r];
        for (int i = 0; i < r; i++)
        {
            long output = (inputSpatial[i] + strides[i] - 1) / strides[i];
            long total = Math.Max(0, (output - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - inputSpatial[i]);
            long small = total / 2;
            pads[i] = upper ? small : total - small;
            pads[r + i] = upper ? total - small : small;
        }

        return pads;
    }

    /// <summary>Whether every begin pad equals its end pad.</summary>
    public static bool IsSymmetric(long[] pads)
    {
        int r = pads.Length / 2;
        for (int i = 0; i < r; i++)
        {
            if (pads[i] != pads[r + i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The begin pads (the symmetric padding TorchSharp's conv and pool functions take).</summary>
    public static long[] Begin(long[] pads) => pads[..(pads.Length / 2)];

    /// <summary>ONNX pads of the trailing spatial dims in F.pad order (last dim first: begin, end, ...).</summary>
    public static long[] ToTorch(long[] pads)
    {
        int r = pads.Length / 2;
        var torchPads = new long[2 * r];
        for (int i = 0; i < r; i++)
        {
            torchPads[2 * i] = pads[r - 1 - i];
            torchPads[2 * i + 1] = pads[2 * r - 1 - i];
        }

        return torchPads;
    }

    /// <summary>Reads and checks the geometry attributes shared by Conv, ConvTranspose and the pools.</summary>
    public static (long[] Strides, long[] Dilations, long[]? Pads, string AutoPad) ReadGeometry(NodeContext node, int rank)
    {
        var strides = node.Ints("strides") ?? Enumerable.Repeat(1L, rank).ToArray();
        var dilations = node.Ints("dilations") ?? Enumerable.Repeat(1L, rank).ToArray();
        var autoPad = node.Choice("auto_pad", "NOTSET", AutoPadModes);
        var pads = node.Ints("pads");
        if (strides.Length != rank || dilations.Length != rank || (pads is not null && pads.Length != 2 * rank))
        {
            throw node.Unsupported($"strides/dilations/pads do not match the {rank} spatial dimension(s).");
        }

        if (strides.Any(s => s <= 0) || dilations.Any(d => d <= 0) || (pads?.Any(p => p < 0) ?? false))
        {
            throw node.Unsupported("strides and dilations must be positive and pads non-negative.");
        }

        if (autoPad == "VALID" || (autoPad == "NOTSET" && pads is null))
        {
            pads = new long[2 * rank];
        }

        return (strides, dilations, autoPad is "SAME_UPPER" or "SAME_LOWER" ? null : pads, autoPad);
    }
}
