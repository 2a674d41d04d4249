using System.CommandLine;
using Dsg.Tool.Configuration;

namespace Dsg.Tool.Commands;

/// <summary>
/// The command-line face of <see cref="OptionCatalog"/>: one flag per setting a verb uses, plus <c>--config FILE</c>.
/// Values stay text here and are parsed by the catalog, so a bad value reads the same whether it came from the
/// command line, dsg.json or the environment.
/// </summary>
internal sealed class SettingsOptions
{
    private readonly List<(OptionDefinition Definition, Option Option)> _options = [];

    public SettingsOptions(Command command, IEnumerable<OptionDefinition> definitions)
    {
        foreach (var definition in definitions)
        {
            var msbuild = OptionCatalog.MsBuildProperties.Contains(definition) ? "MSBuild property Dsg" + definition.Name : "MSBuild " + definition.Name;
            var sources = $"[{definition.EnvironmentVariable}; dsg.json \"{definition.ConfigKey}\"; {msbuild}]";
            var description = definition.IsFlag
                ? $"{definition.Description} {sources}"
                : $"{definition.Description} Allowed: {definition.Allowed}. {sources}";
            Option option = definition.IsFlag
                ? new Option<bool>(definition.Flag) { Description = description }
                : new Option<string>(definition.Flag)
                {
                    Description = description,
                    HelpName = HelpNameOf(definition),
                    // Help prints "[default: X]": the record's own default, formatted, never a copy. An implicit value
                    // is not "given" (see Given), so it does not override dsg.json or DSG_*.
                    DefaultValueFactory = definition.DefaultText is { } defaultText ? _ => defaultText : null,
                };

            command.Add(option);
            _options.Add((definition, option));
        }

        ConfigFile = new Option<string>("--config") { Description = "Read settings from this JSON file instead of the nearest dsg.json. [MSBuild ConfigFile]", HelpName = "FILE" };
        command.Add(ConfigFile);
        ItemMetadata = new Option<string[]>("--msbuild-metadata")
        {
            Description = "NAME=VALUE: a DsgQuantize item's metadata, passed by the MSBuild task; above dsg.json and DSG_*, below flags.",
            HelpName = "NAME=VALUE",
            Hidden = true,
        };
        command.Add(ItemMetadata);
    }

    public Option<string> ConfigFile { get; }

    /// <summary>Replaces the help text of <paramref name="definition"/>'s flag, for a verb that uses the setting differently.</summary>
    public void Describe(OptionDefinition definition, string description)
    {
        var option = _options.Single(o => o.Definition == definition).Option;
        option.Description = $"{description} Allowed: {definition.Allowed}. [{definition.EnvironmentVariable}; dsg.json \"{definition.ConfigKey}\"]";
    }

    /// <summary>The MSBuild item's metadata (<c>--msbuild-metadata NAME=VALUE</c>, repeated), which the task passes unchecked.</summary>
    public Option<string[]> ItemMetadata { get; }

    /// <summary>The settings given explicitly on the command line, by setting name.</summary>
    public Dictionary<string, string> Given(ParseResult parse)
    {
        var given = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (definition, option) in _options)
        {
            if (parse.GetResult(option) is not { Implicit: false })
            {
                continue;
            }

            given[definition.Name] = option switch
            {
                Option<bool> flag => parse.GetValue(flag) ? "true" : "false",
                Option<string> text => parse.GetValue(text) ?? "",
                _ => throw new InvalidOperationException(option.Name),
            };
        }

        return given;
    }

    /// <summary>The metadata names passed with --msbuild-metadata that are no setting, with the nearest known name (<see cref="MsBuildMetadataNames"/>).</summary>
    public IEnumerable<(string Name, string? Suggestion)> UnknownMetadata(ParseResult parse) =>
        MsBuildMetadataNames.Check(Metadata(parse).Select(p => p.Key));

    /// <summary>Merges defaults, dsg.json, DSG_* and the command line.</summary>
    public ResolvedOptions Resolve(ParseResult parse, ToolEnvironment environment, string? modelPath) =>
        OptionsResolver.Resolve(Given(parse), parse.GetValue(ConfigFile), modelPath, environment.DsgVariables(), environment.WorkingDirectory, Metadata(parse));

    private List<KeyValuePair<string, string>> Metadata(ParseResult parse)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var pair in parse.GetValue(ItemMetadata) ?? [])
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new Dsg.Core.DsgException(Dsg.Core.ErrorCodes.CommandLineUsage, $"--msbuild-metadata '{pair}' is not NAME=VALUE.",
                    "The MSBuild task passes each DsgQuantize metadata as --msbuild-metadata NAME=VALUE.");
            }

            pairs.Add(new KeyValuePair<string, string>(pair[..equals].Trim(), pair[(equals + 1)..]));
        }

        return pairs;
    }

    private static string HelpNameOf(OptionDefinition definition) => definition.Name switch
    {
        nameof(DsgOptions.InputShape) => "C,H,W",
        nameof(DsgOptions.InputMean) => "M[,M...]",
        nameof(DsgOptions.InputStd) => "S[,S...]",
        nameof(DsgOptions.InputRange) => "MIN,MAX",
        nameof(DsgOptions.CalibrationData) => "FILE",
        nameof(DsgOptions.CacheDir) => "DIR",
        nameof(DsgOptions.CacheSizeLimit) => "SIZE",
        nameof(DsgOptions.RemoteCache) => "URL",
        nameof(DsgOptions.RemoteCacheAuthVariable) => "VARIABLE",
        nameof(DsgOptions.RemoteCacheTimeout) => "SECONDS",
        nameof(DsgOptions.MinAgreement) => "X",
        nameof(DsgOptions.Without) => "TERM[,TERM...]",
        nameof(DsgOptions.TermWeights) => "NAME=VALUE[,NAME=VALUE...]",
        // A list of choices ("auto, cpu, cuda"), not a description ("an integer from 1 to 4096", "a path ...").
        _ when definition.Allowed.Contains(", ", StringComparison.Ordinal) && !definition.Allowed.StartsWith("a ", StringComparison.Ordinal) && !definition.Allowed.StartsWith("an ", StringComparison.Ordinal) => definition.Allowed.Replace(", ", "|"),
        _ => "N",
    };
}
