using System.Text.Json;
using System.Text.Json.Serialization;
using Dsg.Core.Data;

namespace Dsg.Core.Generation;

/// <summary>
/// Writes a generation result into a folder: <c>samples.npy</c> (float32 N×C×H×W), <c>preview.png</c> (a grid of the
/// samples) and <c>generation.json</c> (options, seconds, loss curves, diversity metrics). All three are staged as
/// temporary files first and renamed into place only when every one is complete; if a rename fails, the files
/// already renamed are removed and any previous files restored, so a failure leaves no new file behind.
/// </summary>
public static class GenerationOutputWriter
{
    /// <summary>The samples file name.</summary>
    public const string SamplesFileName = "samples.npy";

    /// <summary>The preview image file name.</summary>
    public const string PreviewFileName = "preview.png";

    /// <summary>The report file name.</summary>
    public const string ReportFileName = "generation.json";

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Writes the three files into <paramref name="directory"/> (created when missing); returns their full paths.</summary>
    /// <exception cref="DsgException">DSG0603 when the folder or a file cannot be written.</exception>
    public static IReadOnlyList<string> Write(string directory, GenerationResult result)
    {
        var dir = Path.GetFullPath(directory);
        var targets = new[] { SamplesFileName, PreviewFileName, ReportFileName }.Select(f => Path.Combine(dir, f)).ToArray();
        var staged = new List<string>();
        try
        {
            Directory.CreateDirectory(dir);
            string stagingDir = Path.Combine(dir, $".dsg-generate.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
            Directory.CreateDirectory(stagingDir);
            try
            {
                string samples = Path.Combine(stagingDir, SamplesFileName);
                // The .npy holds every sample, so they are read whole here (generate only; quantize never does this).
                var values = result.Samples.ToArray();
                NpyFile.WriteFloat32(samples, values, result.Shape);
                string preview = Path.Combine(stagingDir, PreviewFileName);
                AtomicFile.WriteAllBytes(preview, PreviewImage.EncodePng(values, result.Shape));
                string report = Path.Combine(stagingDir, ReportFileName);
                AtomicFile.WriteAllText(report, ToJson(result));
                staged.AddRange([samples, preview, report]);
                Commit(staged, targets, stagingDir);
            }
            finally
            {
                Directory.Delete(stagingDir, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DsgException(ErrorCodes.GenerationOutputUnwritable,
                $"The generated samples could not be written to '{dir}': {e.Message}",
                "Choose an output folder you can write to, with enough free space.", e) { FilePath = dir };
        }

        return targets;
    }

    /// <summary>Renames the staged files into place; if one rename fails, the new files are removed and the old ones restored.</summary>
    private static void Commit(IReadOnlyList<string> staged, IReadOnlyList<string> targets, string stagingDir)
    {
        var moved = new List<int>();
        var backups = new Dictionary<int, string>();
        try
        {
            for (int i = 0; i < targets.Count; i++)
            {
                if (File.Exists(targets[i]))
                {
                    string backup = Path.Combine(stagingDir, "previous." + Path.GetFileName(targets[i]));
                    File.Move(targets[i], backup);
                    backups[i] = backup;
                }

                File.Move(staged[i], targets[i]);
                moved.Add(i);
            }
        }
        catch
        {
            foreach (int i in moved)
            {
                File.Delete(targets[i]);
            }

            foreach (var (i, backup) in backups)
            {
                File.Move(backup, targets[i], overwrite: true);
            }

            throw;
        }
    }

    /// <summary>The content of generation.json.</summary>
    public static string ToJson(GenerationResult result)
    {
        var report = new
        {
            format = "dsg-generation/1",
            method = result.Options.Method,
            device = result.Device,
            shape = result.Shape,
            seconds = result.Seconds,
            options = result.Options,
            outputKind = result.OutputKind is { } kind ? Graph.OutputKindDetector.Name(kind) : null,
            classTerm = result.ClassTermUsed,
            warnings = result.Warnings,
            diversity = result.Diversity is not { } d ? null : new
            {
                d.Samples,
                d.BatchNormSpread,
                d.BatchNormMeanSpread,
                d.BatchNormStdSpread,
                d.PixelCosine,
                d.FeatureCosine,
                d.BatchNormGap,
            },
            curves = result.Curves.ToDictionary(
                c => c.Term,
                c => c.Points.Select(p => new[] { p.Batch, p.Iteration, p.Value }).ToArray()),
        };
        return JsonSerializer.Serialize(report, s_json) + "\n";
    }
}
