using System.CommandLine;
using System.Globalization;
using Dsg.Core;
using Dsg.Core.Caching;
using Dsg.Tool.Configuration;
using Dsg.Tool.Output;

namespace Dsg.Tool.Commands;

/// <summary><c>dsg cache list [--remote]|prune|clear|push|pull|path</c>.</summary>
internal static class CacheCommand
{
    public static Command Create(GlobalOptions global)
    {
        var cache = new Command("cache", "Look at and trim the cache of quantized models, and copy entries to and from the remote cache.");
        var remoteFlag = new Option<bool>("--remote") { Description = "List the remote cache (--remote-cache; needs WebDAV PROPFIND) instead of the local one." };
        var list = Verb(global, "list", "List entries, most recently used first.", [OptionCatalog.CacheDir, OptionCatalog.CacheSizeLimit, .. OptionCatalog.Remote], async (context, store, options) =>
        {
            if (context.Parse.GetValue(remoteFlag))
            {
                await ListRemoteAsync(context, options).ConfigureAwait(false);
            }
            else
            {
                ListLocal(context, store, options);
            }
        });
        list.Add(remoteFlag);
        cache.Add(list);
        cache.Add(Verb(global, "prune", "Remove least-recently-used entries until the cache fits --cache-size-limit, and leftovers of interrupted runs.", [OptionCatalog.CacheDir, OptionCatalog.CacheSizeLimit],
            (context, store, options) => Report(context, "prune", store, store.Prune(options.CacheSizeLimit))));
        cache.Add(Verb(global, "clear", "Remove every entry that no running dsg is using.", [OptionCatalog.CacheDir],
            (context, store, _) => Report(context, "clear", store, store.Clear())));
        cache.Add(CacheTransferCommand.Create(global, push: true));
        cache.Add(CacheTransferCommand.Create(global, push: false));
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

    /// <summary>The cache folder the settings select, with <paramref name="remote"/> behind it.</summary>
    public static ArtifactCache Open(DsgOptions options, ToolEnvironment environment, RemoteCache? remote = null) =>
        new(options.CacheDir ?? ArtifactCache.DefaultRoot(environment.GetVariable), options.CacheSizeLimit, TimeSpan.FromSeconds(options.CacheLockTimeout), remote);

    /// <summary>
    /// The remote cache the settings name, or null when none is set. The Authorization value is read from the variable
    /// that --remote-cache-auth-variable names; when it is unset, empty or not one line, <paramref name="warn"/> gets
    /// DSG0813 and requests go without the header. The value itself is never printed.
    /// </summary>
    public static RemoteCache? OpenRemote(DsgOptions options, ToolEnvironment environment, Action<CacheWarning>? warn)
    {
        if (options.RemoteCache is not { } url)
        {
            return null;
        }

        string? authorization = null;
        if (options.RemoteCacheAuthVariable is { } variable)
        {
            authorization = environment.GetVariable(variable)?.Trim();
            if (string.IsNullOrEmpty(authorization) || authorization.Any(char.IsControl))
            {
                var problem = string.IsNullOrEmpty(authorization) ? "is not set or empty" : "holds a line break or another control character";
                authorization = null;
                warn?.Invoke(new CacheWarning(ErrorCodes.RemoteCacheAuthVariableMissing,
                    $"--remote-cache-auth-variable names {variable}, which {problem}; requests to the remote cache go without an Authorization header. " +
                    $"Set {variable} to the header's value in one line (for example 'Bearer TOKEN'), or drop --remote-cache-auth-variable for a cache that needs none."));
            }
        }

        return new RemoteCache(new RemoteCacheSettings(new Uri(url), options.RemoteCacheMode, authorization,
            TimeSpan.FromSeconds(options.RemoteCacheTimeout), options.RemoteCacheRetries));
    }

    /// <summary>The remote cache, or DSG0815 for a verb that cannot work without one.</summary>
    public static RemoteCache RequireRemote(DsgOptions options, ToolEnvironment environment, Action<CacheWarning>? warn, string verb) =>
        OpenRemote(options, environment, warn) ?? throw new DsgException(ErrorCodes.RemoteCacheNotConfigured,
            $"{verb} needs a remote cache, and none is set.",
            "Pass --remote-cache URL, set DSG_REMOTE_CACHE, or add \"remoteCache\" to dsg.json (docs/ci.md).");

    /// <summary>Shows a cache warning: coded ones as warnings, the others as notes.</summary>
    public static void Show(Reporter reporter, CacheWarning warning)
    {
        if (warning.Code is null)
        {
            reporter.Note(warning.Message);
        }
        else
        {
            reporter.Warning(warning.Code, warning.Message);
        }
    }

    /// <summary>A cache verb that offers only the settings it uses (<paramref name="settingsUsed"/>), plus --config and --json.</summary>
    internal static Command Verb(GlobalOptions global, string name, string description, IReadOnlyList<OptionDefinition> settingsUsed, Action<VerbContext, ArtifactCache, DsgOptions> body) =>
        Verb(global, name, description, settingsUsed, (context, store, options) =>
        {
            body(context, store, options);
            return Task.CompletedTask;
        });

    /// <summary>An asynchronous cache verb.</summary>
    internal static Command Verb(GlobalOptions global, string name, string description, IReadOnlyList<OptionDefinition> settingsUsed, Func<VerbContext, ArtifactCache, DsgOptions, Task> body)
    {
        var command = new Command(name, description);
        var json = GlobalOptions.Json("Print one JSON object instead of text.");
        command.Add(json);
        var settings = new SettingsOptions(command, settingsUsed);
        VerbAction.Set(command, global, json, async context =>
        {
            var options = settings.Resolve(context.Parse, context.Environment, modelPath: null).Options;
            await body(context, Open(options, context.Environment), options).ConfigureAwait(false);
            return VerbAction.Success;
        });
        return command;
    }

    private static void ListLocal(VerbContext context, ArtifactCache store, DsgOptions options)
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
    }

    private static async Task ListRemoteAsync(VerbContext context, DsgOptions options)
    {
        using var remote = RequireRemote(options, context.Environment, w => Show(context.Reporter, w), "cache list --remote");
        var entries = await remote.ListAsync(context.CancellationToken).ConfigureAwait(false);
        var output = context.Environment.Output;
        long total = entries.Sum(e => Math.Max(0, e.SizeBytes));
        if (context.Reporter.IsJson)
        {
            output.WriteLine(JsonLine.Format(w =>
            {
                w.WriteString("type", "cache");
                w.WriteString("remote", remote.BaseUri.AbsoluteUri);
                w.WriteNumber("sizeBytes", total);
                w.WriteStartArray("entries");
                foreach (var entry in entries)
                {
                    w.WriteStartObject();
                    w.WriteString("key", entry.Key);
                    w.WriteNumber("sizeBytes", entry.SizeBytes);
                    if (entry.LastModifiedUtc is { } modified)
                    {
                        w.WriteString("lastModified", modified);
                    }
                    else
                    {
                        w.WriteNull("lastModified");
                    }

                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }));
            return;
        }

        output.WriteLine($"{remote.BaseUri.AbsoluteUri}: {entries.Count} entr{(entries.Count == 1 ? "y" : "ies")}, {ByteSize.Format(total)} (archives)");
        foreach (var entry in entries)
        {
            var stored = entry.LastModifiedUtc is { } modified ? $"  stored {modified.ToLocalTime():yyyy-MM-dd HH:mm}" : "";
            output.WriteLine($"  {entry.Key[..16]}  {(entry.SizeBytes < 0 ? "?" : ByteSize.Format(entry.SizeBytes)),9}{stored}");
        }
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
