using Dsg.Core;
using Dsg.Core.Pipeline;

namespace Dsg.Tool.Running;

/// <summary>
/// Copies a produced set of files (from a cache entry or a private staging folder) to where the user asked.
/// Files named <c>model.*</c> take the stem of <c>--out</c>: <c>model.onnx</c> becomes <c>OUT.onnx</c>,
/// <c>model.report.json</c> becomes <c>OUT.report.json</c>. The files are published as one <see cref="AtomicFileSet"/>:
/// every file is copied to a temp name beside its target first, then they are swapped in; when anything fails or the
/// run is cancelled, the previous OUT.onnx and reports are still there, unchanged, and no new file is left behind.
/// </summary>
internal static class OutputPublisher
{
    /// <summary>The stem produced files use inside a cache entry.</summary>
    public const string ProducedStem = "model";

    /// <summary>Where <paramref name="producedName"/> goes for the output <paramref name="outputPath"/>.</summary>
    public static string TargetOf(string producedName, string outputPath)
    {
        var directory = Path.GetDirectoryName(outputPath)!;
        var stem = Path.GetFileNameWithoutExtension(outputPath);
        var name = producedName.StartsWith(ProducedStem + ".", StringComparison.Ordinal)
            ? stem + producedName[ProducedStem.Length..]
            : producedName;
        if (producedName == ProducedStem + ".onnx")
        {
            return outputPath;
        }

        return Path.Combine(directory, name.Replace('/', Path.DirectorySeparatorChar));
    }

    /// <summary>
    /// Checks that <paramref name="outputPath"/> can be written and is not the input (compared as resolved real paths
    /// and file identity, so a symlinked folder or a bind mount does not hide it), and creates its folder; returns it
    /// absolute. <paramref name="createdFolders"/> lists the folders created (deepest first), for
    /// <see cref="RemoveCreatedFolders"/> when the run then fails.
    /// </summary>
    /// <exception cref="DsgException"><see cref="ErrorCodes.OutputUnwritable"/>.</exception>
    public static string Prepare(string outputPath, string inputPath, out IReadOnlyList<string> createdFolders)
    {
        createdFolders = [];
        var full = Path.GetFullPath(outputPath);
        if (RealPath.SameFile(full, inputPath))
        {
            throw Unwritable(full, "it is the input model", "Choose a different --out path, for example MODEL.int8.onnx.");
        }

        if (Directory.Exists(full))
        {
            throw Unwritable(full, "it is a folder", "Pass a file path such as OUT.onnx to --out.");
        }

        // The reports are part of the set: a folder where one goes would fail the publish after all the work.
        foreach (var report in new[] { TargetOf(ProducedStem + ".report.json", full), TargetOf(ProducedStem + ".report.md", full) })
        {
            if (Directory.Exists(report))
            {
                throw Unwritable(full, $"'{report}' is a folder, so the report cannot be written there", "Remove or rename that folder, or choose another --out path; nothing was written.");
            }
        }

        var missing = new List<string>();
        for (var folder = Path.GetDirectoryName(full); folder is not null && !Directory.Exists(folder) && !File.Exists(folder); folder = Path.GetDirectoryName(folder))
        {
            missing.Add(folder);
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            createdFolders = missing;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unwritable(full, e.Message, "Choose an --out path in a folder you can write.");
        }

        return full;
    }

    /// <summary>
    /// Removes the folders <see cref="Prepare"/> created, deepest first, each only while it is empty: a failed or
    /// cancelled run leaves no empty --out folder behind, and never removes a folder something else put a file in.
    /// </summary>
    public static void RemoveCreatedFolders(IReadOnlyList<string> createdFolders)
    {
        foreach (var folder in createdFolders)
        {
            try
            {
                if (!Directory.Exists(folder) || Directory.EnumerateFileSystemEntries(folder).Any())
                {
                    return;
                }

                Directory.Delete(folder);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort: a folder that cannot be removed is left as it is.
                return;
            }
        }
    }

    /// <summary>
    /// Copies <paramref name="files"/> (name relative to <paramref name="sourceDirectory"/>) to their targets, all or
    /// nothing. The reports are written for this run rather than copied: they were produced in a staging folder or
    /// cache entry, possibly from another copy of the model, so their <c>model</c> and <c>output</c> (and the
    /// Markdown title) are set to <paramref name="modelPath"/> and <paramref name="outputPath"/>.
    /// </summary>
    /// <returns>The absolute paths written, in the order of <paramref name="files"/>.</returns>
    /// <exception cref="DsgException"><see cref="ErrorCodes.OutputUnwritable"/>; the previous output files are intact.</exception>
    public static IReadOnlyList<string> Publish(string sourceDirectory, IEnumerable<string> files, string outputPath, string modelPath, CancellationToken cancellationToken)
    {
        try
        {
            using var set = new AtomicFileSet();
            var names = files.ToList();
            var report = ReadReport(sourceDirectory, names, outputPath, modelPath);
            foreach (var name in names)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var target = TargetOf(name, outputPath);
                if (report is not null && name == ProducedStem + ".report.json")
                {
                    set.Add(target, stream => Write(stream, QuantizeReportWriter.ToJson(report)));
                }
                else if (report is not null && name == ProducedStem + ".report.md")
                {
                    set.Add(target, stream => Write(stream, QuantizeReportWriter.ToMarkdown(report)));
                }
                else
                {
                    set.AddCopy(target, Path.Combine(sourceDirectory, name.Replace('/', Path.DirectorySeparatorChar)));
                }
            }

            return set.Commit(cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unwritable(outputPath, StorageErrors.Describe(e), "Choose an --out path in a folder you can write (and remove anything in the way); the previous output is unchanged.", e);
        }
    }

    /// <summary>The produced report with the user's model and output paths, or null when there is none (or it does not read).</summary>
    private static QuantizeReport? ReadReport(string sourceDirectory, IReadOnlyList<string> names, string outputPath, string modelPath)
    {
        if (!names.Contains(ProducedStem + ".report.json"))
        {
            return null;
        }

        try
        {
            var report = QuantizeReportWriter.FromJson(File.ReadAllText(Path.Combine(sourceDirectory, ProducedStem + ".report.json")));
            return report is null ? null : report with { Model = Path.GetFullPath(modelPath), Output = outputPath };
        }
        catch (System.Text.Json.JsonException)
        {
            // An entry written by another version: copy its reports as they are.
            return null;
        }
    }

    private static void Write(Stream stream, string text)
    {
        using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), leaveOpen: true);
        writer.Write(text);
    }

    private static DsgException Unwritable(string path, string reason, string hint, Exception? inner = null) =>
        new(ErrorCodes.OutputUnwritable, $"Cannot write the output '{path}': {reason}.", hint, inner) { FilePath = path };
}
