using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.IO;
using System.Linq;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Dsg.Build.Tasks;

/// <summary>
/// Resolves every <c>DsgQuantize</c> item's settings and computes where its output goes. Runs in every build
/// (including up-to-date ones) so the outputs are always added to <c>None</c> or <c>EmbeddedResource</c>; the
/// expensive <see cref="DsgQuantizeModel"/> runs only for out-of-date items. In real builds
/// (<see cref="ResolveWithTool"/>) it asks the tool (<c>config show MODEL --json</c>, a fraction of a second) for
/// the settings the item's metadata, its <c>ConfigFile</c> or the dsg.json the tool finds, and <c>DSG_*</c> give:
/// the tool validates them (its errors become build errors), its resolved precision names the output, and the
/// settings that decide the output become the options file, an input of the quantize target.
/// </summary>
public sealed class DsgPrepareQuantize : Task, ICancelableTask
{
    private readonly ToolProcess _process = new();

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

    /// <summary>True in real builds: run the tool to resolve and validate the settings. False in design-time builds.</summary>
    public bool ResolveWithTool { get; set; }

    /// <summary><c>$(DsgToolPath)</c>: an executable (or dotnet-dsg.dll); wins over <see cref="ToolCommand"/>.</summary>
    public string? ToolPath { get; set; }

    /// <summary><c>$(DsgToolCommand)</c>: a command line prefix, default <c>dotnet dsg</c>.</summary>
    public string? ToolCommand { get; set; }

    /// <summary>
    /// One item per model: the model's full path, with metadata <c>OutputPath</c>, <c>OptionsFile</c>,
    /// <c>NormalizedOptions</c> (the tool's build inputs, lines separated by ';'), <c>ExtraInputs</c>,
    /// <c>ResolvedPrecision</c>, <c>Link</c>, <c>Embed</c>, <c>LogicalName</c>, <c>OutputName</c>, plus the item's own metadata.
    /// </summary>
    [Output]
    public ITaskItem[] QuantizedModels { get; private set; } = Array.Empty<ITaskItem>();

    /// <inheritdoc />
    public override bool Execute()
    {
        var results = new List<ITaskItem>();
        var outputs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string intermediate = Path.GetFullPath(Path.Combine(ProjectDirectory, IntermediateDirectory));
        DsgToolLauncher? launcher = null;
        if (ResolveWithTool)
        {
            launcher = DsgToolLauncher.Resolve(ToolPath, ToolCommand, ProjectDirectory, out string? problem);
            if (launcher == null)
            {
                Error(DsgErrorCodes.ToolNotFound, $"The Dsg tool cannot be found: {problem} {SupportedToolVersions.InstallHint}");
                return false;
            }
        }

        foreach (ITaskItem model in Models)
        {
            var problems = new List<KeyValuePair<string, string>>();
            QuantizeSettings settings = QuantizeSettings.Read(model, ProjectDirectory, problems);
            if (!File.Exists(settings.ModelPath))
            {
                Error(DsgErrorCodes.ModelFileMissing,
                    $"The model '{settings.ModelPath}' named by <DsgQuantize Include=\"{model.ItemSpec}\"> does not exist. " +
                    "Fix the Include path (relative paths resolve against the project folder) or add the model file.");
                continue;
            }

            ToolMessage? resolved = null;
            if (launcher != null && (resolved = Resolve(launcher, model, settings)) == null)
            {
                continue;
            }

            string? precision = null;
            string? calibrationData = null;
            foreach (var setting in resolved?.Objects("settings") ?? Array.Empty<Dictionary<string, object?>>())
            {
                string? name = setting.TryGetValue("name", out object? n) ? n as string : null;
                string? value = setting.TryGetValue("value", out object? v) ? v as string : null;
                precision = name == "Precision" ? value : precision;
                calibrationData = name == "CalibrationData" ? value : calibrationData;
            }

            // Builds that do not ask the tool (design-time builds, publish --no-build) name the output with the
            // precision the last real build resolved for this model, so they add the file that build wrote.
            string memo = Path.Combine(intermediate, "precision", Fingerprint(settings.ModelPath) + ".txt");
            if (resolved != null && precision != null)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(memo)!);
                if (!File.Exists(memo) || File.ReadAllText(memo) != precision)
                {
                    File.WriteAllText(memo, precision);
                }
            }
            else if (resolved == null && model.GetMetadata("Precision").Trim().Length == 0 && File.Exists(memo))
            {
                precision = File.ReadAllText(memo).Trim();
            }

            OutputLocation location = settings.Locate(ProjectDirectory, precision, problems);
            foreach (var problem in problems)
            {
                Error(DsgErrorCodes.InvalidMetadata, $"<DsgQuantize Include=\"{model.ItemSpec}\">: {problem.Value}");
            }

            if (problems.Count > 0)
            {
                continue;
            }

            string outputPath = Path.Combine(intermediate, location.Link);
            if (outputs.TryGetValue(outputPath, out string? other))
            {
                Error(DsgErrorCodes.DuplicateOutput,
                    $"<DsgQuantize Include=\"{model.ItemSpec}\"> and <DsgQuantize Include=\"{other}\"> would both write '{location.Link}'. " +
                    "Give one of them a different OutputName.");
                continue;
            }

            outputs.Add(outputPath, model.ItemSpec);
            var result = new TaskItem(settings.ModelPath);
            model.CopyMetadataTo(result);
            result.SetMetadata("OutputPath", outputPath);
            result.SetMetadata("OptionsFile", outputPath + ".options");
            result.SetMetadata("NormalizedOptions", string.Join(";", resolved?.Strings("buildInputs") ?? Array.Empty<string>()));
            result.SetMetadata("ExtraInputs", calibrationData ?? string.Empty);
            result.SetMetadata("ResolvedPrecision", precision ?? string.Empty);
            result.SetMetadata("Link", location.Link);
            result.SetMetadata("OutputName", location.OutputName);
            result.SetMetadata("Embed", settings.Embed ? "true" : "false");
            result.SetMetadata("LogicalName", location.LogicalName);
            result.SetMetadata("ModelDisplayName", model.ItemSpec);
            results.Add(result);
        }

        QuantizedModels = results.ToArray();
        return !Log.HasLoggedErrors;
    }

    /// <inheritdoc />
    public void Cancel() => _process.Cancel();

    /// <summary>
    /// The tool's <c>config</c> answer for one item, or null after logging the tool's errors (bad metadata, a bad
    /// dsg.json or DSG_ variable) with their codes.
    /// </summary>
    private ToolMessage? Resolve(DsgToolLauncher launcher, ITaskItem model, QuantizeSettings settings)
    {
        var arguments = new List<string> { "config", "show", settings.ModelPath, "--json" };
        foreach (var option in settings.ToolOptions())
        {
            arguments.Add(option.Key);
            arguments.Add(option.Value);
        }

        int exitCode;
        string output;
        string error;
        try
        {
            (exitCode, output, error) = _process.Run(launcher, arguments, ProjectDirectory);
        }
        catch (Win32Exception e)
        {
            Error(DsgErrorCodes.ToolNotFound, $"The Dsg tool ({launcher.Description}) cannot be started: {e.Message}. {SupportedToolVersions.InstallHint}");
            return null;
        }

        ToolMessage? config = null;
        bool reported = false;
        foreach (string line in output.Split('\n'))
        {
            if (!ToolMessage.TryParse(line.Trim(), out ToolMessage message))
            {
                continue;
            }

            if (message.Type == "config")
            {
                config = message;
            }
            else if (message.Type == "warning")
            {
                // For example DSG0908: a metadata name that is no setting, with the nearest known one.
                Log.LogWarning(null, message.Code ?? DsgErrorCodes.UnknownMetadata, null, ProjectFile, 0, 0, 0, 0,
                    $"<DsgQuantize Include=\"{model.ItemSpec}\">: {message.Message}");
            }
            else if (message.Type == "error")
            {
                reported = true;
                string text = $"<DsgQuantize Include=\"{model.ItemSpec}\">: {message.Message}" + (message.Hint is { Length: > 0 } hint ? " " + hint : string.Empty);
                Log.LogError(null, message.Code ?? DsgErrorCodes.ToolFailed, null, message.File is { Length: > 0 } file ? file : ProjectFile, 0, 0, 0, 0, text);
            }
        }

        if (exitCode == 0 && config != null)
        {
            return config;
        }

        if (!reported)
        {
            string shown = (output + error).Trim();
            Error(DsgErrorCodes.ToolFailed,
                $"The Dsg tool ({launcher.Description}) could not resolve the settings of <DsgQuantize Include=\"{model.ItemSpec}\"> " +
                $"('config show' exited with {exitCode}): {(shown.Length > 600 ? shown.Substring(0, 600) + "..." : shown)}");
        }

        return null;
    }

    /// <summary>A short stable name for a model path.</summary>
    private static string Fingerprint(string path)
    {
        using var sha = System.Security.Cryptography.SHA256.Create();
        byte[] hash = sha.ComputeHash(System.Text.Encoding.UTF8.GetBytes(path));
        return BitConverter.ToString(hash, 0, 8).Replace("-", string.Empty).ToLowerInvariant();
    }

    private void Error(string code, string message) =>
        Log.LogError(null, code, null, ProjectFile, 0, 0, 0, 0, message);
}
