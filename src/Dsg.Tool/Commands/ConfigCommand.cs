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
            // The MSBuild task asks config show first for every item, so a metadata typo is reported once per build.
            foreach (var (name, suggestion) in settings.UnknownMetadata(context.Parse))
            {
                context.Reporter.Warning(Dsg.Core.ErrorCodes.UnknownMetadata, MsBuildMetadataNames.Describe(name, suggestion));
            }

            if (context.Reporter.IsJson)
            {
                output.WriteLine(JsonLine.Format(w =>
                {
                    w.WriteString("type", "config");
                    w.WriteString("configFile", resolved.ConfigFile);
                    // What the MSBuild task writes to the file that is an Input of its quantize target: a change in any
                    // source (metadata, a dsg.json found on its own, DSG_*) of a value that decides the output reruns it.
                    w.WriteStartArray("buildInputs");
                    foreach (var line in BuildInputs(resolved.Options))
                    {
                        w.WriteStringValue(line);
                    }

                    w.WriteEndArray();
                    w.WriteStartArray("settings");
                    foreach (var definition in OptionCatalog.All)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", definition.Name);
                        w.WriteString("key", definition.ConfigKey);
                        w.WriteString("value", definition.Format(resolved.Options));
                        w.WriteString("default", definition.DefaultText);
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
                var values = OptionCatalog.All.Select(d => d.Format(resolved.Options) ?? Undecided(d, resolved.Options)).ToList();
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

    /// <summary>
    /// The <c>key=value</c> lines of every setting that decides what quantize writes or whether it fails: the ones in
    /// the cache key, and <c>minAgreement</c> (checked on cache hits too).
    /// </summary>
    public static IEnumerable<string> BuildInputs(DsgOptions options) =>
        OptionCatalog.All
            .Where(d => d.AffectsOutput || d == OptionCatalog.MinAgreement)
            .Select(d => $"{d.ConfigKey}={d.Format(options)}");

    /// <summary>What decides a setting left unset: the recipe's choice, the budget, or inference from the model.</summary>
    internal static string Undecided(OptionDefinition definition, DsgOptions options)
    {
        var quantization = Running.QuantizePipelineProducer.QuantizationOptionsFor(options);
        return definition.Name switch
        {
            nameof(DsgOptions.Observer) => "recipe: " + OptionCatalog.Observers.First(n => Dsg.Core.Quantization.QuantizationOptions.ParseObserver(n) == quantization.EffectiveObserver),
            nameof(DsgOptions.WeightRange) => "recipe: " + OptionCatalog.WeightRanges.First(n => Dsg.Core.Quantization.QuantizationOptions.ParseWeightRange(n) == quantization.EffectiveWeightRange),
            nameof(DsgOptions.FirstLastLayer) => "recipe: " + (quantization.EffectiveEightBitFirstLastLayer ? "8bit" : "target"),
            nameof(DsgOptions.Samples) or nameof(DsgOptions.Iterations) => $"budget {options.Budget}: chosen for the model",
            nameof(DsgOptions.HeldOutSamples) => "follows the samples the budget chooses",
            nameof(DsgOptions.InputMean) or nameof(DsgOptions.InputStd) => "inferred from the model",
            _ => "(unset)",
        };
    }
}
