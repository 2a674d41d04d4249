using System.CommandLine;
using System.Globalization;
using Dsg.Core.Caching;
using Dsg.Tool.Configuration;
using Dsg.Tool.Output;

namespace Dsg.Tool.Commands;

/// <summary><c>dsg cache list|prune|clear|path</c>.</summary>
internal static class CacheCommand
{
    public static Command Create(GlobalOptions global)
    {
        var cache = new Command("cache", "Look at and trim the cache of quantized models.");
        cache.Add(Verb(global, "list", "List entries, most recently used first.", [OptionCatalog.CacheDir, OptionCatalog.CacheSizeLimit], (context, store, options) =>
        {
            var entries = store.List();
            var output = context.Environment.Output;
            if (context.Reporter.IsJson)
            {
                output.WriteLine(JsonLine.Format(w =>
                {
                    w.WriteString("type", "cache");
                    w.WriteString("path", store.Root);
                    w.WriteNumber("sizeBytes", entries.Sum(e => e.SizeBytes));
                    w.WriteNumber("sizeLimitBytes", options.CacheSizeLimit);
                    w.WriteStartArray("entries");
                    foreach (var entry in entries)
                    {
                        w.WriteStartObject();
                        w.WriteString("key", entry.Key);
                        w.WriteNumber("sizeBytes", entry.SizeBytes);
                        w.WriteString("lastUsed", entry.LastUsedUtc);
                        w.WriteString("created", entry.Manifest.CreatedUtc);
                        w.WriteString("model", entry.Manifest.Metadata.GetValueOrDefault("model"));
                        w.WriteStartArray("files");
                        foreach (var file in entry.Manifest.Files)
                        {
                            w.WriteStringValue(file.Name);
                        }

                        w.WriteEndArray();
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                }));
                return;
            }

            output.WriteLine($"{store.Root}: {entries.Count} entr{(entries.Count == 1 ? "y" : "ies")}, {ByteSize.Format(entries.Sum(e => e.SizeBytes))} of {ByteSize.Format(options.CacheSizeLimit)}");
            foreach (var entry in entries)
            {
                var model = entry.Manifest.Metadata.GetValueOrDefault("model") ?? "";
                var settings = entry.Manifest.Metadata.GetValueOrDefault("settings") ?? "";
                output.WriteLine($"  {entry.Key[..16]}  {ByteSize.Format(entry.SizeBytes),9}  last used {entry.LastUsedUtc.ToLocalTime():yyyy-MM-dd HH:mm}  {model} {settings}".TrimEnd());
            }
        }));
        cache.Add(Verb(global, "prune", "Remove least-recently-used entries until the cache fits --cache-size-limit, and leftovers of interrupted runs.", [OptionCatalog.CacheDir, OptionCatalog.CacheSizeLimit],
            (context, store, options) => Report(context, "prune", store, store.Prune(options.CacheSizeLimit))));
        cache.Add(Verb(global, "clear", "Remove every entry that no running dsg is using.", [OptionCatalog.CacheDir],
            (context, store, _) => Report(context, "clear", store, store.Clear())));
        cache.Add(Verb(global, "path", "Print the cache folder.", [OptionCatalog.CacheDir], (context, store, _) =>
        {
            if (context.Reporter.IsJson)
            {
                context.Environment.Output.WriteLine(JsonLine.Format(w =>
                {
                    w.WriteString("type", "cache");
                    w.WriteString("path", store.Root);
                }));
            }
            else
            {
                context.Environment.Output.WriteLine(store.Root);
            }
        }));
        return cache;
    }

    /// <summary>The cache folder the settings select.</summary>
    public static ArtifactCache Open(DsgOptions options, ToolEnvironment environment) =>
        new(options.CacheDir ?? ArtifactCache.DefaultRoot(environment.GetVariable), options.CacheSizeLimit, TimeSpan.FromSeconds(options.CacheLockTimeout));

    /// <summary>A cache verb that offers only the settings it uses (<paramref name="settingsUsed"/>), plus --config and --json.</summary>
    private static Command Verb(GlobalOptions global, string name, string description, IReadOnlyList<OptionDefinition> settingsUsed, Action<VerbContext, ArtifactCache, DsgOptions> body)
    {
        var command = new Command(name, description);
        var json = GlobalOptions.Json("Print one JSON object instead of text.");
        command.Add(json);
        var settings = new SettingsOptions(command, settingsUsed);
        VerbAction.Set(command, global, json, context =>
        {
            var options = settings.Resolve(context.Parse, context.Environment, modelPath: null).Options;
            body(context, Open(options, context.Environment), options);
            return Task.FromResult(VerbAction.Success);
        });
        return command;
    }

    private static void Report(VerbContext context, string action, ArtifactCache store, PruneResult result)
    {
        if (context.Reporter.IsJson)
        {
            context.Environment.Output.WriteLine(JsonLine.Format(w =>
            {
                w.WriteString("type", "cache");
                w.WriteString("action", action);
                w.WriteString("path", store.Root);
                w.WriteNumber("removedEntries", result.RemovedEntries);
                w.WriteNumber("removedBytes", result.RemovedBytes);
                w.WriteNumber("remainingEntries", result.RemainingEntries);
                w.WriteNumber("remainingBytes", result.RemainingBytes);
            }));
        }
        else
        {
            context.Environment.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{action}: removed {result.RemovedEntries} entr{(result.RemovedEntries == 1 ? "y" : "ies")} ({ByteSize.Format(result.RemovedBytes)}); {result.RemainingEntries} left ({ByteSize.Format(result.RemainingBytes)}) in {store.Root}"));
        }
    }
}
