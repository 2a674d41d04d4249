using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.Build.Framework;

namespace Dsg.Build.Tasks;

/// <summary>
/// The metadata of one <c>DsgQuantize</c> item as the task sees it. The task knows no setting: every metadata that
/// is not the task's own (<see cref="TaskMetadata"/>) goes to the tool unchecked as <c>--msbuild-metadata NAME=VALUE</c>,
/// and the tool validates it with its option catalog, the one table of allowed values, ranges and defaults, and
/// ignores names that are not settings. The task itself reads only what it acts on: where the output goes
/// (<c>OutputName</c>, <c>Embed</c>, <c>LogicalName</c>) and the <c>ConfigFile</c> it passes as <c>--config</c>.
/// </summary>
internal sealed class QuantizeSettings
{
    /// <summary>
    /// Metadata the task reads or adds itself (<see cref="DsgPrepareQuantize.QuantizedModels"/>); the tool never sees them.
    /// </summary>
    public static readonly string[] TaskMetadata =
    {
        "OutputName", "Embed", "LogicalName", "ConfigFile",
        "OutputPath", "OptionsFile", "NormalizedOptions", "ExtraInputs", "Link", "ModelDisplayName", "ResolvedPrecision",
    };

    /// <summary>MSBuild's well-known item metadata, which every item has.</summary>
    private static readonly HashSet<string> s_wellKnown = new(StringComparer.OrdinalIgnoreCase)
    {
        "FullPath", "RootDir", "Filename", "Extension", "RelativeDir", "Directory", "RecursiveDir", "Identity",
        "ModifiedTime", "CreatedTime", "AccessedTime", "DefiningProjectFullPath", "DefiningProjectDirectory",
        "DefiningProjectName", "DefiningProjectExtension",
    };

    /// <summary>
    /// Metadata that other targets and Visual Studio put on any item; they are not passed to the tool, which would
    /// otherwise warn (DSG0908) that they are no Dsg setting.
    /// </summary>
    private static readonly HashSet<string> s_common = new(StringComparer.OrdinalIgnoreCase)
    {
        "Visible", "CopyToOutputDirectory", "CopyToPublishDirectory", "DependentUpon", "SubType", "Generator",
        "LastGenOutput", "CustomToolNamespace", "Pack", "PackagePath", "InProject", "TargetPath", "ExcludeFromSingleFile",
    };

    /// <summary>The precision the tool uses when nothing sets one; only for design-time builds, which do not ask the tool.</summary>
    private const string DesignTimePrecision = "W8A8";

    private QuantizeSettings(ITaskItem item, string modelPath)
    {
        Item = item;
        ModelPath = modelPath;
    }

    /// <summary>The item the settings came from.</summary>
    public ITaskItem Item { get; }

    /// <summary>Full path of the fp32 model.</summary>
    public string ModelPath { get; }

    /// <summary>The <c>ConfigFile</c> metadata as a full path (not checked: the tool reports a missing file), or null.</summary>
    public string? ConfigFile { get; private set; }

    /// <summary>True to embed the output as a resource instead of copying it to the output folder.</summary>
    public bool Embed { get; private set; }

    /// <summary>
    /// Reads an item. Problems (metadata name, message) are added to <paramref name="problems"/>; the result is
    /// usable only when none were added.
    /// </summary>
    public static QuantizeSettings Read(ITaskItem item, string projectDirectory, ICollection<KeyValuePair<string, string>> problems)
    {
        string modelPath = Path.GetFullPath(Path.Combine(projectDirectory, item.ItemSpec));
        var s = new QuantizeSettings(item, modelPath);
        string config = item.GetMetadata("ConfigFile").Trim();
        s.ConfigFile = config.Length > 0 ? Path.GetFullPath(Path.Combine(projectDirectory, config)) : null;
        s.Embed = s.Bool("Embed", problems);
        return s;
    }

    /// <summary>
    /// The item's metadata for the tool: every non-empty custom metadata that is not the task's own, in name order
    /// (<c>NAME=VALUE</c>). Whether a name is a setting and its value allowed is the tool's to say.
    /// </summary>
    public IReadOnlyList<string> ToolMetadata()
    {
        var pairs = new List<string>();
        foreach (string name in Item.MetadataNames.Cast<string>().OrderBy(n => n, StringComparer.OrdinalIgnoreCase))
        {
            if (TaskMetadata.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            // Well-known metadata (FullPath, Filename, ...) are not custom metadata; GetMetadata of them is never "".
            string value = Item.GetMetadata(name).Trim();
            if (value.Length > 0 && !IsWellKnown(name))
            {
                pairs.Add(name + "=" + value);
            }
        }

        return pairs;
    }

    /// <summary>The tool's arguments that carry this item's settings: <c>--config</c> and the metadata.</summary>
    public IEnumerable<KeyValuePair<string, string>> ToolOptions()
    {
        if (ConfigFile != null)
        {
            yield return new KeyValuePair<string, string>("--config", ConfigFile);
        }

        foreach (string pair in ToolMetadata())
        {
            yield return new KeyValuePair<string, string>("--msbuild-metadata", pair);
        }
    }

    /// <summary>
    /// Where the output goes and what it is called, for the precision the tool resolved (null in design-time builds,
    /// which do not run the tool: the item's own <c>Precision</c> or W8A8 then).
    /// </summary>
    public OutputLocation Locate(string projectDirectory, string? resolvedPrecision, ICollection<KeyValuePair<string, string>> problems)
    {
        string precision = resolvedPrecision
            ?? (Item.GetMetadata("Precision").Trim() is { Length: > 0 } given ? given : DesignTimePrecision);
        string suffix = string.Equals(precision, "W8A8", StringComparison.OrdinalIgnoreCase) ? "int8" : precision.ToLowerInvariant();
        string outputName = Item.GetMetadata("OutputName").Trim();
        if (outputName.Length == 0)
        {
            outputName = Path.GetFileNameWithoutExtension(ModelPath) + "." + suffix + ".onnx";
        }

        if (Path.IsPathRooted(outputName) || outputName.Split('/', '\\').Contains(".."))
        {
            problems.Add(Problem("OutputName", outputName, "a file name or a relative path inside the output folder, without '..'"));
        }

        string logicalName = Item.GetMetadata("LogicalName").Trim();
        return new OutputLocation(
            outputName,
            Path.Combine(RelativeFolder(projectDirectory), outputName),
            logicalName.Length > 0 ? logicalName : Path.GetFileName(outputName));
    }

    private static bool IsWellKnown(string name) => s_wellKnown.Contains(name) || s_common.Contains(name);

    /// <summary>The model's folder relative to the project when the model is inside it, else empty.</summary>
    private string RelativeFolder(string projectDirectory)
    {
        string root = Path.GetFullPath(projectDirectory).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar) + Path.DirectorySeparatorChar;
        string folder = Path.GetDirectoryName(ModelPath) + Path.DirectorySeparatorChar;
        return folder.StartsWith(root, StringComparison.Ordinal) ? folder.Substring(root.Length) : string.Empty;
    }

    private bool Bool(string name, ICollection<KeyValuePair<string, string>> problems)
    {
        string value = Item.GetMetadata(name).Trim();
        if (value.Length == 0 || string.Equals(value, "false", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (string.Equals(value, "true", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        problems.Add(Problem(name, value, "true or false"));
        return false;
    }

    private static KeyValuePair<string, string> Problem(string name, string value, string expected) =>
        new(name, $"{name}=\"{value}\" is not valid: expected {expected}.");
}
