using System.Text;

namespace Dsg.Tool.Configuration;

/// <summary>
/// One setting of <see cref="DsgOptions"/> and every name it goes by: the record property (also the MSBuild item
/// metadata name), the dsg.json key, the environment variable and the command-line flag. It parses and checks
/// values the same way whichever source they come from.
/// </summary>
internal sealed class OptionDefinition
{
    private readonly Func<DsgOptions, string?> _format;
    private readonly Func<DsgOptions, string, string, DsgOptions?> _apply;

    public OptionDefinition(
        string name,
        string description,
        string allowed,
        bool affectsOutput,
        Func<DsgOptions, string?> format,
        Func<DsgOptions, string, string, DsgOptions?> apply,
        string? example = null)
    {
        Name = name;
        Description = description;
        Allowed = allowed;
        AffectsOutput = affectsOutput;
        Example = example;
        _format = format;
        _apply = apply;
        ConfigKey = char.ToLowerInvariant(name[0]) + name[1..];
        EnvironmentVariable = "DSG_" + Split(name, '_').ToUpperInvariant();
        Flag = "--" + Split(name, '-').ToLowerInvariant();
    }

    /// <summary>The record property and MSBuild metadata name, e.g. <c>BatchSize</c>.</summary>
    public string Name { get; }

    /// <summary>The dsg.json key, e.g. <c>batchSize</c> (matched case-insensitively).</summary>
    public string ConfigKey { get; }

    /// <summary>The environment variable, e.g. <c>DSG_BATCH_SIZE</c>.</summary>
    public string EnvironmentVariable { get; }

    /// <summary>The command-line flag, e.g. <c>--batch-size</c>.</summary>
    public string Flag { get; }

    public string Description { get; }

    /// <summary>What values are accepted, for messages and docs.</summary>
    public string Allowed { get; }

    /// <summary>An example value (not the default) for docs.</summary>
    public string? Example { get; }

    /// <summary>
    /// The built-in default as text (<see cref="DsgOptions.Default"/> formatted), or null when unset by default (a
    /// rule decides: the budget, the recipe, inference). Help and the docs show this, so it cannot drift.
    /// </summary>
    public string? DefaultText => Format(DsgOptions.Default);

    /// <summary>Whether the setting changes the produced files (and so belongs in the cache key).</summary>
    public bool AffectsOutput { get; }

    /// <summary>Whether the flag takes no value on the command line.</summary>
    public bool IsFlag { get; init; }

    /// <summary>The value in <paramref name="options"/> as text (null when unset).</summary>
    public string? Format(DsgOptions options) => _format(options);

    /// <summary>
    /// Returns <paramref name="options"/> with this setting parsed from <paramref name="text"/>; relative paths are
    /// resolved against <paramref name="baseDirectory"/>. Null when the text is not an allowed value.
    /// </summary>
    public DsgOptions? TryApply(DsgOptions options, string text, string baseDirectory) => _apply(options, text.Trim(), baseDirectory);

    private static string Split(string pascal, char separator)
    {
        var builder = new StringBuilder();
        for (int i = 0; i < pascal.Length; i++)
        {
            if (i > 0 && char.IsUpper(pascal[i]))
            {
                builder.Append(separator);
            }

            builder.Append(pascal[i]);
        }

        return builder.ToString();
    }
}
