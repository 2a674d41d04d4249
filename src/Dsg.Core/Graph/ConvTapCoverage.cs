namespace Dsg.Core.Graph;

/// <summary>
/// Which kernel taps of a 2-D convolution fall inside the image, grouped over output positions: output positions
/// whose in-image taps are the same form one pattern, and each pattern carries the fraction of output positions that
/// have it. Zero padding is the taps outside. Along each axis there are only a few distinct patterns (the borders
/// and the interior), so a pattern list is small even for large images.
/// </summary>
internal sealed class ConvTapCoverage
{
    private ConvTapCoverage(IReadOnlyList<(bool[] Rows, bool[] Columns, double Fraction)> patterns) => Patterns = patterns;

    /// <summary>Every pattern: which kernel rows and columns are inside the image, and the fraction of output positions with it.</summary>
    public IReadOnlyList<(bool[] Rows, bool[] Columns, double Fraction)> Patterns { get; }

    /// <summary>
    /// The coverage of a kernel over an image of <paramref name="height"/> x <paramref name="width"/>, with ONNX
    /// pads [top, left, bottom, right], strides and dilations. Null when the convolution has no output position.
    /// </summary>
    public static ConvTapCoverage? Of(long height, long width, long[] kernel, long[] strides, long[] dilations, long[] pads)
    {
        var rows = Axis(height, kernel[0], strides[0], dilations[0], pads[0], pads[2]);
        var columns = Axis(width, kernel[1], strides[1], dilations[1], pads[1], pads[3]);
        if (rows is null || columns is null)
        {
            return null;
        }

        double total = (double)rows.Sum(r => r.Count) * columns.Sum(c => c.Count);
        var patterns = new List<(bool[], bool[], double)>();
        foreach (var (rowMask, rowCount) in rows)
        {
            foreach (var (columnMask, columnCount) in columns)
            {
                patterns.Add((rowMask, columnMask, rowCount * (double)columnCount / total));
            }
        }

        return new ConvTapCoverage(patterns);
    }

    /// <summary>Every tap inside at every position: the limit of a large image (used when the image size is unknown).</summary>
    public static ConvTapCoverage Interior(long[] kernel) =>
        new([(Enumerable.Repeat(true, (int)kernel[0]).ToArray(), Enumerable.Repeat(true, (int)kernel[1]).ToArray(), 1.0)]);

    /// <summary>The distinct in-image tap masks along one axis with how many output positions have each.</summary>
    private static List<(bool[] Mask, long Count)>? Axis(long size, long kernel, long stride, long dilation, long padBegin, long padEnd)
    {
        long outputs = ((size + padBegin + padEnd - (dilation * (kernel - 1)) - 1) / stride) + 1;
        if (size < 1 || outputs < 1)
        {
            return null;
        }

        var groups = new List<(bool[] Mask, long Count)>();
        for (long i = 0; i < outputs; i++)
        {
            var mask = new bool[kernel];
            for (long k = 0; k < kernel; k++)
            {
                long position = (i * stride) - padBegin + (k * dilation);
                mask[k] = position >= 0 && position < size;
            }

            int found = groups.FindIndex(g => g.Mask.AsSpan().SequenceEqual(mask));
            if (found >= 0)
            {
                groups[found] = (groups[found].Mask, groups[found].Count + 1);
            }
            else
            {
                groups.Add((mask, 1));
            }
        }

        return groups;
    }
}
