using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Dsg.Build.Tasks;

/// <summary>
/// Validates every <c>DsgQuantize</c> item and computes where its output goes, without starting any process.
/// Runs in every build (including up-to-date ones) so the outputs are always added to <c>None</c> or
/// <c>EmbeddedResource</c>; the expensive <see cref="DsgQuantizeModel"/> runs only for out-of-date items.
/// </summary>
public sealed class DsgPrepareQuantize : Task
{
    /// <summary>The <c>DsgQuantize</c> items.</summary>
    [Required]
    public ITaskItem[] Models { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The project's folder; relative model paths and metadata paths resolve against it.</summary>
    [Required]
    public string ProjectDirectory { get; set; } = string.Empty;

    /// <summary>The project file, named as the location of metadata errors.</summary>
    [Required]
    public string ProjectFile { get; set; } = string.Empty;

    /// <summary>Where outputs and option files go (<c>$(DsgIntermediateDir)</c>, under obj/).</summary>
    [Required]
    public string IntermediateDirectory { get; set; } = string.Empty;

    /// <summary>
    /// One item per model: the model's full path, with metadata <c>OutputPath</c>, <c>OptionsFile</c>,
    /// <c>NormalizedOptions</c> (lines separated by ';'), <c>ExtraInputs</c>, <c>Link</c>, <c>Embed</c>,
    /// <c>LogicalName</c>, <c>OutputName</c>, plus the item's own metadata.
    /// </summary>
    [Output]
    public ITaskItem[] QuantizedModels { get; private set; } = Array.Empty<ITaskItem>();

    /// <inheritdoc />
    public override bool Execute()
    {
        var results = new List<ITaskItem>();
        var outputs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string intermediate = Path.GetFullPath(Path.Combine(ProjectDirectory, IntermediateDirectory));
        foreach (ITaskItem model in Models)
        {
            var problems = new List<KeyValuePair<string, string>>();
            QuantizeSettings settings = QuantizeSettings.Read(model, ProjectDirectory, problems);
            if (!File.Exists(settings.ModelPath))
            {
                Error(DsgErrorCodes.ModelFileMissing,
                    $"The model '{settings.ModelPath}' named by <DsgQuantize Include=\"{model.ItemSpec}\"> does not exist. " +
                    "Fix the Include path (relative paths resolve against the project folder) or add the model file.");
            }

            foreach (var problem in problems)
            {
                Error(DsgErrorCodes.InvalidMetadata, $"<DsgQuantize Include=\"{model.ItemSpec}\">: {problem.Value}");
            }

            if (problems.Count > 0)
            {
                continue;
            }

            string outputPath = Path.Combine(intermediate, settings.Link);
            if (outputs.TryGetValue(outputPath, out string? other))
            {
                Error(DsgErrorCodes.DuplicateOutput,
                    $"<DsgQuantize Include=\"{model.ItemSpec}\"> and <DsgQuantize Include=\"{other}\"> would both write '{settings.Link}'. " +
                    "Give one of them a different OutputName.");
                continue;
            }

            outputs.Add(outputPath, model.ItemSpec);
            var result = new TaskItem(settings.ModelPath);
            model.CopyMetadataTo(result);
            result.SetMetadata("OutputPath", outputPath);
            result.SetMetadata("OptionsFile", outputPath + ".options");
            result.SetMetadata("NormalizedOptions", string.Join(";", settings.NormalizedOptions));
            result.SetMetadata("ExtraInputs", string.Join(";", settings.ExtraInputs));
            result.SetMetadata("Link", settings.Link);
            result.SetMetadata("OutputName", settings.OutputName);
            result.SetMetadata("Embed", settings.Embed ? "true" : "false");
            result.SetMetadata("LogicalName", settings.LogicalName);
            result.SetMetadata("ModelDisplayName", model.ItemSpec);
            results.Add(result);
        }

        QuantizedModels = results.ToArray();
        return !Log.HasLoggedErrors;
    }

    private void Error(string code, string message) =>
        Log.LogError(null, code, null, ProjectFile, 0, 0, 0, 0, message);
}
