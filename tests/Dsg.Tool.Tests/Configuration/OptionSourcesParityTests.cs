using System.CommandLine;
using System.Text.Json;
using Dsg.Core;
using Dsg.Tool.Commands;
using Dsg.Tool.Configuration;
using Microsoft.Extensions.Configuration;

namespace Dsg.Tool.Tests.Configuration;

/// <summary>
/// Issue 13, "must show": every setting of the schema, given the same text on the command line (parsed by the real
/// flags), in dsg.json, in its DSG_ variable and as MSBuild item metadata, ends up as the same value, or is refused
/// with the same list of allowed values; and unset, every source leaves the record's default.
/// </summary>
public sealed class OptionSourcesParityTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public static TheoryData<string> Settings()
    {
        var data = new TheoryData<string>();
        foreach (var definition in OptionCatalog.All)
        {
            data.Add(definition.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void Every_source_accepts_the_same_values_and_refuses_the_same_ones(string name)
    {
        var definition = OptionCatalog.FindByName(name)!;
        string[] texts = definition.IsFlag
            ? ["true", "false"]
            : [.. new[] { definition.Example, definition.DefaultText, "not-a-value" }.OfType<string>().Distinct()];

        foreach (var text in texts)
        {
            var outcomes = new Dictionary<string, string>
            {
                ["command line"] = Outcome(definition, () => FromCommandLine(definition, text)),
                ["dsg.json"] = Outcome(definition, () => FromDsgJson(definition, text)),
                [definition.EnvironmentVariable] = Outcome(definition, () => Resolve(environment: [(definition.EnvironmentVariable, text)])),
                ["MSBuild metadata"] = Outcome(definition, () => Resolve(metadata: [(definition.Name, text)])),
            };

            Assert.True(outcomes.Values.Distinct().Count() == 1,
                $"{definition.Name} = '{text}' differs by source:\n" + string.Join("\n", outcomes.Select(o => $"  {o.Key}: {o.Value}")));
        }
    }

    [Fact]
    public void Unset_in_every_source_is_the_records_default_and_an_empty_environment_changes_nothing()
    {
        var resolved = Resolve();

        Assert.Equal(DsgOptions.Default, resolved.Options);
        Assert.All(OptionCatalog.All, d => Assert.Equal(OptionsResolver.DefaultSource, resolved.Sources[d.Name]));
        // The flags' help defaults are the catalog's, which are the record's (no copy to drift).
        var command = new Command("quantize");
        var settings = new SettingsOptions(command, OptionCatalog.All);
        var parse = command.Parse([]);
        Assert.Empty(settings.Given(parse));
        foreach (var definition in OptionCatalog.All.Where(d => !d.IsFlag && d.DefaultText is not null))
        {
            var option = command.Options.OfType<Option<string>>().Single(o => o.Name == definition.Flag);
            Assert.Equal(definition.DefaultText, parse.GetValue(option));
        }
    }

    /// <summary>The formatted value, or the refusal with what the message says is allowed (the source's name removed).</summary>
    private static string Outcome(OptionDefinition definition, Func<ResolvedOptions> resolve)
    {
        try
        {
            return "value " + (definition.Format(resolve().Options) ?? "(unset)");
        }
        catch (DsgException e) when (e.Code is ErrorCodes.BadOption or ErrorCodes.BadConfiguration or ErrorCodes.InvalidMetadata)
        {
            int expected = e.Message.IndexOf(": expected ", StringComparison.Ordinal);
            return "refused" + (expected < 0 ? ": " + e.Message : e.Message[expected..]);
        }
    }

    private ResolvedOptions FromCommandLine(OptionDefinition definition, string text)
    {
        var command = new Command("quantize");
        var settings = new SettingsOptions(command, OptionCatalog.All);
        string[] args = definition.IsFlag ? (text == "true" ? [definition.Flag] : [definition.Flag, "false"]) : [definition.Flag, text];
        var parse = command.Parse(args);
        Assert.Empty(parse.Errors);
        return Resolve(commandLine: settings.Given(parse));
    }

    private ResolvedOptions FromDsgJson(OptionDefinition definition, string text)
    {
        object value = definition.IsFlag ? text == "true" : text;
        _folder.Write("dsg.json", JsonSerializer.Serialize(new Dictionary<string, object> { [definition.ConfigKey] = value }));
        try
        {
            return Resolve();
        }
        finally
        {
            File.Delete(_folder.Combine("dsg.json"));
        }
    }

    /// <summary>dsg.json (when written) sits in the working folder, so relative paths resolve alike in every source.</summary>
    private ResolvedOptions Resolve(Dictionary<string, string>? commandLine = null, (string Name, string Value)[]? environment = null,
        (string Name, string Value)[]? metadata = null)
    {
        var variables = new ConfigurationBuilder()
            .AddInMemoryCollection((environment ?? []).Select(v => new KeyValuePair<string, string?>(v.Name["DSG_".Length..], v.Value)))
            .Build();
        return OptionsResolver.Resolve(commandLine ?? [], null, _folder.Combine("m.onnx"), variables, _folder.Path,
            (metadata ?? []).Select(m => new KeyValuePair<string, string>(m.Name, m.Value)).ToList());
    }
}
