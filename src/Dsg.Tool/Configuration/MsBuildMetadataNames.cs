namespace Dsg.Tool.Configuration;

/// <summary>
/// The names a <c>DsgQuantize</c> item's metadata may have: every setting (<see cref="OptionCatalog.All"/>, by
/// <see cref="OptionDefinition.Name"/>) and the task's own. A name that is neither is most likely a typo
/// (<c>Precison</c>), which MSBuild would otherwise pass silently; <see cref="Check"/> says so, with the nearest name.
/// </summary>
internal static class MsBuildMetadataNames
{
    /// <summary>
    /// The metadata the MSBuild task reads itself (Dsg.Build.Tasks' QuantizeSettings.TaskMetadata; the task never
    /// passes them to the tool, they are listed here only to suggest them; a test checks the two lists agree).
    /// </summary>
    public static readonly string[] TaskMetadata = ["ConfigFile", "OutputName", "Embed", "LogicalName"];

    /// <summary>One warning per metadata name that is not a setting: the name, and the nearest known name when one is close.</summary>
    public static IEnumerable<(string Name, string? Suggestion)> Check(IEnumerable<string> names)
    {
        var known = OptionCatalog.All.Select(d => d.Name).Concat(TaskMetadata).ToList();
        foreach (var name in names.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (known.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            yield return (name, Nearest(name, known));
        }
    }

    /// <summary>The warning text for an unknown name.</summary>
    public static string Describe(string name, string? suggestion) => suggestion is null
        ? $"<DsgQuantize> metadata '{name}' is not a Dsg setting and is ignored. Known metadata: {string.Join(", ", OptionCatalog.All.Select(d => d.Name).Concat(TaskMetadata))}."
        : $"<DsgQuantize> metadata '{name}' is not a Dsg setting and is ignored; did you mean '{suggestion}'?";

    /// <summary>The known name within a third of the name's length in edits (case ignored), nearest first; null when none is that close.</summary>
    internal static string? Nearest(string name, IEnumerable<string> known)
    {
        int allowed = Math.Max(1, name.Length / 3);
        return known
            .Select(k => (Name: k, Distance: DsgCommandLine.EditDistance(name, k)))
            .Where(k => k.Distance <= allowed)
            .OrderBy(k => k.Distance).ThenBy(k => k.Name, StringComparer.Ordinal)
            .Select(k => k.Name)
            .FirstOrDefault();
    }
}
