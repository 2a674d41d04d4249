using System.CommandLine;
using Dsg.Tool.Configuration;
using Dsg.Tool.Output;

namespace Dsg.Tool.Commands;

/// <summary><c>dsg config show [MODEL]</c>: the effective settings and where each value came from.</summary>
internal static class ConfigCommand
{
    public static Command Create(GlobalOptions global)
    {
        var config = new Command("config", "Show the effective configuration.");
        var show = new Command("show", "Print every setting's effective value and its source: default, a dsg.json path, a DSG_* variable or a flag.");
        var model = new Argument<string?>("MODEL") { Description = "Look for dsg.json from this model's folder up (default: the current folder).", Arity = ArgumentArity.ZeroOrOne };
        var json = GlobalOptions.Json("Print one JSON object instead of a table.");
        show.Add(model);
        show.Add(json);
        var settings = new SettingsOptions(show, OptionCatalog.All);
        config.Add(show);

        VerbAction.Set(show, global, json, context =>
        {
            var modelPath = context.Parse.GetValue(model) is { } m ? context.FullPath(m) : null;
            var resolved = settings.Resolve(context.Parse, context.Environment, modelPath);
            var output = context.Environment.Output;
            if (context.Reporter.IsJson)
            {
                output.WriteLine(JsonLine.Format(w =>
                {
                    w.WriteString("type", "config");
                    w.WriteString("configFile", resolved.ConfigFile);
                    w.WriteStartArray("settings");
                    foreach (var definition in OptionCatalog.All)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", definition.Name);
                        w.WriteString("key", definition.ConfigKey);
                        w.WriteString("value", definition.Format(resolved.Options));
                        w.WriteString("source", resolved.Sources[definition.Name]);
                        w.WriteString("environmentVariable", definition.EnvironmentVariable);
                        w.WriteString("flag", definition.Flag);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                }));
            }
            else
            {
                output.WriteLine($"dsg.json: {resolved.ConfigFile ?? "(none found)"}");
                int keyWidth = OptionCatalog.All.Max(d => d.ConfigKey.Length) + 2;
                var values = OptionCatalog.All.Select(d => d.Format(resolved.Options) ?? "(unset)").ToList();
                int valueWidth = Math.Min(48, values.Max(v => v.Length) + 2);
                for (int i = 0; i < OptionCatalog.All.Count; i++)
                {
                    var definition = OptionCatalog.All[i];
                    // A value wider than the column (a long path, every term weight) still keeps one space before its source.
                    output.WriteLine($"{definition.ConfigKey.PadRight(keyWidth)}{(values[i] + " ").PadRight(valueWidth)}{resolved.Sources[definition.Name]}");
                }
            }

            return Task.FromResult(VerbAction.Success);
        });
        return config;
    }
}
