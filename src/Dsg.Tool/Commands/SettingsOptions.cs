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
            var description = $"{definition.Description} [{definition.EnvironmentVariable}; dsg.json \"{definition.ConfigKey}\"]";
            Option option = definition.IsFlag
                ? new Option<bool>(definition.Flag) { Description = description }
                : new Option<string>(definition.Flag) { Description = $"{description} Allowed: {definition.Allowed}.", HelpName = HelpNameOf(definition) };
            command.Add(option);
            _options.Add((definition, option));
        }

        ConfigFile = new Option<string>("--config") { Description = "Read settings from this JSON file instead of the nearest dsg.json.", HelpName = "FILE" };
        command.Add(ConfigFile);
    }

    public Option<string> ConfigFile { get; }

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

    /// <summary>Merges defaults, dsg.json, DSG_* and the command line.</summary>
    public ResolvedOptions Resolve(ParseResult parse, ToolEnvironment environment, string? modelPath) =>
        OptionsResolver.Resolve(Given(parse), parse.GetValue(ConfigFile), modelPath, environment.DsgVariables(), environment.WorkingDirectory);

    private static string HelpNameOf(OptionDefinition definition) => definition.Name switch
    {
        nameof(DsgOptions.InputShape) => "C,H,W",
        nameof(DsgOptions.InputMean) => "M[,M...]",
        nameof(DsgOptions.InputStd) => "S[,S...]",
        nameof(DsgOptions.InputRange) => "MIN,MAX",
        nameof(DsgOptions.CalibrationData) => "FILE",
        nameof(DsgOptions.CacheDir) => "DIR",
        nameof(DsgOptions.CacheSizeLimit) => "SIZE",
        nameof(DsgOptions.MinAgreement) => "X",
        nameof(DsgOptions.Without) => "TERM[,TERM...]",
        nameof(DsgOptions.TermWeights) => "NAME=VALUE[,NAME=VALUE...]",
        _ when definition.Allowed.Contains(',') && !definition.Allowed.StartsWith("a", StringComparison.Ordinal) => definition.Allowed.Replace(", ", "|"),
        _ => "N",
    };
}
