using System.Text;

namespace Dsg.Core.Pipeline;

/// <summary>
/// Writes a quantize run's files, OUT.onnx with OUT.report.json and OUT.report.md, as one set
/// (<see cref="AtomicFileSet"/>): until all of them are complete, the previous set stays exactly as it was.
/// </summary>
public static class QuantizeOutputs
{
    /// <summary>Publishes the model and, when <paramref name="report"/> is given, its two reports.</summary>
    /// <param name="output">The quantized model's path (absolute).</param>
    /// <param name="modelPath">The fp32 model, which must not be overwritten.</param>
    /// <param name="model">The quantized model's bytes.</param>
    /// <param name="report">The report to write beside it; null writes none.</param>
    /// <returns>The report paths written.</returns>
    /// <exception cref="DsgException"><see cref="ErrorCodes.OutputUnwritable"/>: the output is the input model, or a file
    /// cannot be written (a full disk, a folder in the way, no permission); the previous files are intact.</exception>
    public static IReadOnlyList<string> Publish(string output, string modelPath, byte[] model, QuantizeReport? report)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (RealPath.SameFile(output, modelPath))
        {
            throw Unwritable(output, "it is the input model", "Choose a different output path, for example MODEL.int8.onnx.");
        }

        var utf8 = new UTF8Encoding(false);
        var reports = new List<string>();
        try
        {
            using var set = new AtomicFileSet();
            set.Add(output, s => s.Write(model));
            if (report is not null)
            {
                string json = QuantizeRequest.JsonReportPath(output), md = QuantizeRequest.MarkdownReportPath(output);
                set.Add(json, s => s.Write(utf8.GetBytes(QuantizeReportWriter.ToJson(report))));
                set.Add(md, s => s.Write(utf8.GetBytes(QuantizeReportWriter.ToMarkdown(report))));
                reports.AddRange([json, md]);
            }

            set.Commit();
        }
        catch (Exception e) when (StorageErrors.IsStorageFailure(e))
        {
            throw Unwritable(output, StorageErrors.Describe(e), "Free disk space or choose an output path in a folder you can write (and remove anything in the way); the previous output is unchanged.", e);
        }

        return reports;
    }

    private static DsgException Unwritable(string path, string reason, string hint, Exception? inner = null) =>
        new(ErrorCodes.OutputUnwritable, $"Cannot write the output '{path}': {reason}.", hint, inner) { FilePath = path };
}
