using Dsg.Core;
using Microsoft.Extensions.Configuration;

namespace Dsg.Tool.Configuration;

/// <summary>
/// Merges the settings sources in increasing precedence: built-in defaults, dsg.json (the nearest one walking up
/// from the model's folder, or <c>--config FILE</c>), <c>DSG_*</c> environment variables, the metadata of a
/// <c>DsgQuantize</c> item (passed by the MSBuild task), then the command line.
/// Unknown dsg.json keys and bad values anywhere are <see cref="DsgException"/>s naming the key, its source and
/// the allowed values.
/// </summary>
internal static class OptionsResolver
{
    /// <summary>The configuration file's name.</summary>
    public const string ConfigFileName = "dsg.json";

    /// <summary>Source label of built-in defaults.</summary>
    public const string DefaultSource = "default";

    /// <summary>Resolves the effective settings.</summary>
    /// <param name="commandLine">Setting name to the text given on the command line.</param>
    /// <param name="explicitConfigFile">The <c>--config</c> file, if given.</param>
    /// <param name="modelPath">The model; dsg.json is searched from its folder up (else from <paramref name="workingDirectory"/>).</param>
    /// <param name="environment">The <c>DSG_</c>-prefixed environment variables, prefix removed (as <c>AddEnvironmentVariables("DSG_")</c> gives them).</param>
    /// <param name="workingDirectory">Relative paths on the command line and in the environment resolve against it.</param>
    /// <param name="itemMetadata">
    /// The MSBuild item's metadata as (name, value) pairs; names that are not settings (the task's own, or the user's
    /// unrelated metadata) are ignored, empty values mean unset.
    /// </param>
    public static ResolvedOptions Resolve(
        IReadOnlyDictionary<string, string> commandLine,
        string? explicitConfigFile,
        string? modelPath,
        IConfiguration environment,
        string workingDirectory,
        IReadOnlyList<KeyValuePair<string, string>>? itemMetadata = null)
    {
        var options = DsgOptions.Default;
        var sources = OptionCatalog.All.ToDictionary(d => d.Name, _ => DefaultSource);

        var configFile = explicitConfigFile is null ? FindConfigFile(modelPath, workingDirectory) : Path.GetFullPath(explicitConfigFile, workingDirectory);
        if (configFile is not null)
        {
            options = ApplyConfigFile(options, sources, configFile, explicitConfigFile is not null);
        }

        foreach (var entry in environment.GetChildren())
        {
            if (entry.Value is null || OptionCatalog.FindByEnvironmentVariable("DSG_" + entry.Key) is not { } definition)
            {
                continue;
            }

            options = Apply(options, definition, entry.Value, workingDirectory, ErrorCodes.BadOption,
                $"environment variable {definition.EnvironmentVariable}",
                $"Fix or unset {definition.EnvironmentVariable}.");
            sources[definition.Name] = definition.EnvironmentVariable;
        }

        foreach (var (name, value) in itemMetadata ?? [])
        {
            if (value.Trim().Length == 0 || OptionCatalog.FindByName(name) is not { } definition)
            {
                continue;
            }

            options = Apply(options, definition, value, workingDirectory, ErrorCodes.InvalidMetadata,
                $"MSBuild metadata {definition.Name}", $"Fix {definition.Name} on the <DsgQuantize> item.");
            sources[definition.Name] = MetadataSource(definition);
        }

        foreach (var definition in OptionCatalog.All)
        {
            if (commandLine.TryGetValue(definition.Name, out var text))
            {
                options = Apply(options, definition, text, workingDirectory, ErrorCodes.BadOption,
                    $"option {definition.Flag}", $"Pass {definition.Flag} one of the allowed values.");
                sources[definition.Name] = definition.Flag;
            }
        }

        return new ResolvedOptions(options, sources, configFile);
    }

    /// <summary>The source label of a value taken from a <c>DsgQuantize</c> item.</summary>
    public static string MetadataSource(OptionDefinition definition) => "MSBuild " + definition.Name;

    /// <summary>The nearest dsg.json in the model's folder or above it (or the working folder and above).</summary>
    public static string? FindConfigFile(string? modelPath, string workingDirectory)
    {
        var start = modelPath is null ? workingDirectory : Path.GetDirectoryName(Path.GetFullPath(modelPath, workingDirectory));
        for (var dir = start is null ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ConfigFileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static DsgOptions ApplyConfigFile(DsgOptions options, Dictionary<string, string> sources, string path, bool explicitlyGiven)
    {
        if (!File.Exists(path))
        {
            throw new DsgException(ErrorCodes.BadConfiguration, $"Configuration file '{path}' was not found.",
                explicitlyGiven ? "Check the --config path (MSBuild: the ConfigFile metadata, relative to the project folder)." : "Check the file.") { FilePath = path };
        }

        IConfigurationRoot file;
        try
        {
            file = new ConfigurationBuilder().AddJsonFile(path, optional: false, reloadOnChange: false).Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException or System.Text.Json.JsonException)
        {
            var reason = (e.InnerException ?? e).Message;
            throw new DsgException(ErrorCodes.BadConfiguration, $"Configuration file '{path}' is not valid JSON: {reason}",
                "dsg.json holds one JSON object of settings, for example { \"precision\": \"W8A8\", \"samples\": 256 }.", e) { FilePath = path };
        }

        var baseDirectory = Path.GetDirectoryName(path)!;
        foreach (var section in file.GetChildren())
        {
            if (section.Key == "$schema")
            {
                continue;
            }

            var definition = OptionCatalog.FindByConfigKey(section.Key) ?? throw new DsgException(
                ErrorCodes.BadConfiguration,
                $"Unknown key '{section.Key}' in '{path}'.",
                $"Known keys: {string.Join(", ", OptionCatalog.All.Select(d => d.ConfigKey))}. See docs/configuration.md.") { FilePath = path };

            var children = section.GetChildren().ToList();
            string text;
            if (section.Value is not null)
            {
                text = section.Value;
            }
            else if (children.Count > 0 && children.All(c => int.TryParse(c.Key, out _) && c.Value is not null))
            {
                // A JSON array such as "inputShape": [3, 224, 224].
                text = string.Join(",", children.OrderBy(c => int.Parse(c.Key, System.Globalization.CultureInfo.InvariantCulture)).Select(c => c.Value));
            }
            else if (children.Count > 0 && children.All(c => c.Value is not null))
            {
                // A JSON object of values such as "termWeights": { "bn": 2, "class": 0.5 }.
                text = string.Join(",", children.Select(c => c.Key + "=" + c.Value));
            }
            else
            {
                text = children.Count == 0 ? "" : "{...}";
            }

            options = Apply(options, definition, text, baseDirectory, ErrorCodes.BadConfiguration,
                $"key '{definition.ConfigKey}' in '{path}'", $"Fix '{definition.ConfigKey}' in {path}.", path);
            sources[definition.Name] = path;
        }

        return options;
    }

    private static DsgOptions Apply(DsgOptions options, OptionDefinition definition, string text, string baseDirectory,
        string code, string where, string fix, string? file = null)
    {
        return definition.TryApply(options, text, baseDirectory) ?? throw new DsgException(
            code,
            $"Invalid value '{text}' for {where}: expected {definition.Allowed}.",
            $"{fix} Allowed: {definition.Allowed}.") { FilePath = file };
    }
}
