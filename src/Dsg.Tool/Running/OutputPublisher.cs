using Dsg.Core;

namespace Dsg.Tool.Running;

/// <summary>
/// Copies a produced set of files (from a cache entry or a private staging folder) to where the user asked.
/// Files named <c>model.*</c> take the stem of <c>--out</c>: <c>model.onnx</c> becomes <c>OUT.onnx</c>,
/// <c>model.report.json</c> becomes <c>OUT.report.json</c>. Each file is copied to a temp name beside its target
/// and renamed into place; when anything fails or the run is cancelled, the files already placed are removed,
/// so the output folder never holds half a result.
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

    /// <summary>Checks that <paramref name="outputPath"/> can be written and is not the input; returns it absolute.</summary>
    /// <exception cref="DsgException"><see cref="ErrorCodes.OutputUnwritable"/>.</exception>
    public static string Prepare(string outputPath, string inputPath)
    {
        var full = Path.GetFullPath(outputPath);
        if (string.Equals(full, Path.GetFullPath(inputPath), StringComparison.Ordinal))
        {
            throw Unwritable(full, "it is the input model", "Choose a different --out path, for example MODEL.int8.onnx.");
        }

        if (Directory.Exists(full))
        {
            throw Unwritable(full, "it is a folder", "Pass a file path such as OUT.onnx to --out.");
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unwritable(full, e.Message, "Choose an --out path in a folder you can write.");
        }

        return full;
    }

    /// <summary>Copies <paramref name="files"/> (name relative to <paramref name="sourceDirectory"/>) to their targets.</summary>
    /// <returns>The absolute paths written, in the order of <paramref name="files"/>.</returns>
    public static IReadOnlyList<string> Publish(string sourceDirectory, IEnumerable<string> files, string outputPath, CancellationToken cancellationToken)
    {
        var placed = new List<string>();
        try
        {
            foreach (var name in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var target = TargetOf(name, outputPath);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                var temp = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
                try
                {
                    File.Copy(Path.Combine(sourceDirectory, name.Replace('/', Path.DirectorySeparatorChar)), temp);
                    File.Move(temp, target, overwrite: true);
                }
                finally
                {
                    File.Delete(temp);
                }

                placed.Add(target);
            }

            return placed;
        }
        catch (Exception e)
        {
            foreach (var path in placed)
            {
                File.Delete(path);
            }

            if (e is IOException or UnauthorizedAccessException)
            {
                throw Unwritable(outputPath, e.Message, "Choose an --out path in a folder you can write.", e);
            }

            throw;
        }
    }

    private static DsgException Unwritable(string path, string reason, string hint, Exception? inner = null) =>
        new(ErrorCodes.OutputUnwritable, $"Cannot write the output '{path}': {reason}.", hint, inner) { FilePath = path };
}
