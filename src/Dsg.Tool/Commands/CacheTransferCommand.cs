using System.CommandLine;
using Dsg.Core;
using Dsg.Core.Caching;
using Dsg.Tool.Configuration;
using Dsg.Tool.Output;

namespace Dsg.Tool.Commands;

/// <summary>
/// <c>dsg cache push|pull [--all|KEY...]</c>: copies entries between the local cache and the remote cache by hand,
/// to seed a remote from a machine that has the entries or to fetch them before going offline. Each entry is
/// re-hashed before it is uploaded and verified after it is downloaded. Unlike a build, a failing remote is an error here.
/// </summary>
internal static class CacheTransferCommand
{
    /// <summary>The shortest key prefix accepted (cache list prints 16 characters).</summary>
    private const int MinPrefixLength = 8;

    public static Command Create(GlobalOptions global, bool push)
    {
        string verb = push ? "push" : "pull";
        var all = new Option<bool>("--all")
        {
            Description = push ? "Upload every entry of the local cache." : "Download every entry the remote cache lists (needs WebDAV PROPFIND).",
        };
        var keys = new Argument<string[]>("KEY")
        {
            Description = "Cache keys, or unique prefixes of at least 8 hex digits as cache list prints them.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var description = push
            ? "Upload local entries to the remote cache (--remote-cache, mode readwrite); entries already there are skipped."
            : "Download entries from the remote cache into the local one, verifying each against its SHA-256s; entries already here are skipped.";
        var command = CacheCommand.Verb(global, verb, description, [OptionCatalog.CacheDir, OptionCatalog.CacheSizeLimit, OptionCatalog.CacheLockTimeout, .. OptionCatalog.Remote],
            (context, store, options) => RunAsync(context, store, options, push, context.Parse.GetValue(all), context.Parse.GetValue(keys) ?? []));
        command.Add(all);
        command.Add(keys);
        return command;
    }

    private static async Task RunAsync(VerbContext context, ArtifactCache store, DsgOptions options, bool push, bool all, string[] given)
    {
        string verb = push ? "push" : "pull";
        if (all == (given.Length > 0))
        {
            throw new DsgException(ErrorCodes.CommandLineUsage, $"cache {verb} takes --all or one or more keys (not both).",
                $"For example 'dotnet dsg cache {verb} --all' or 'dotnet dsg cache {verb} 8772f6ed1b4b3c11'; cache list{(push ? "" : " --remote")} shows the keys.");
        }

        if (given.FirstOrDefault(k => !IsKeyOrPrefix(k)) is { } bad)
        {
            throw new DsgException(ErrorCodes.CommandLineUsage, $"'{bad}' is not a cache key or a key prefix ({MinPrefixLength} to 64 lowercase hex digits).",
                $"Copy the key from 'dotnet dsg cache list{(push ? "" : " --remote")}'.");
        }

        void Warn(CacheWarning warning) => CacheCommand.Show(context.Reporter, warning);
        using var remote = CacheCommand.RequireRemote(options, context.Environment, Warn, $"cache {verb}");
        if (push && options.RemoteCacheMode == RemoteCacheMode.Read)
        {
            throw new DsgException(ErrorCodes.RemoteCacheNotConfigured, "cache push uploads, but --remote-cache-mode is read.",
                "Pass --remote-cache-mode readwrite (or set DSG_REMOTE_CACHE_MODE=readwrite) on the machine that seeds the remote cache.");
        }

        var keys = await ResolveAsync(context, store, remote, push, all, given).ConfigureAwait(false);
        var results = new List<(string Key, CacheTransfer Outcome)>();
        foreach (var key in keys)
        {
            var outcome = push
                ? await store.PushAsync(key, remote, Warn, context.CancellationToken).ConfigureAwait(false)
                : await store.PullAsync(key, remote, Warn, context.CancellationToken).ConfigureAwait(false);
            results.Add((key, outcome));
        }

        Print(context, verb, store, remote, results);
        var failed = results.Where(r => r.Outcome is CacheTransfer.Missing or CacheTransfer.Corrupt).ToList();
        if (failed.Count > 0)
        {
            var where = push ? "the local cache" : "the remote cache";
            throw new DsgException(ErrorCodes.RemoteCacheTransferIncomplete,
                $"cache {verb}: {failed.Count} of {results.Count} entr{(results.Count == 1 ? "y was" : "ies were")} not copied: " +
                string.Join(", ", failed.Select(f => $"{f.Key[..16]} ({(f.Outcome == CacheTransfer.Missing ? "not in " + where : "corrupt in " + where)})")) + ".",
                push ? "A build of the model produces the entry again; push after it." : "A build in readwrite mode produces the entry and uploads it in place of a corrupt one.");
        }
    }

    /// <summary>The full keys to copy: every entry of the source with --all, else the given keys with prefixes expanded.</summary>
    private static async Task<IReadOnlyList<string>> ResolveAsync(VerbContext context, ArtifactCache store, RemoteCache remote, bool push, bool all, string[] given)
    {
        if (all)
        {
            return push
                ? store.List().Select(e => e.Key).ToList()
                : (await remote.ListAsync(context.CancellationToken).ConfigureAwait(false)).Select(e => e.Key).ToList();
        }

        if (given.All(CacheKey.IsKey))
        {
            return given.Distinct(StringComparer.Ordinal).ToList();
        }

        var source = push
            ? store.List().Select(e => e.Key).ToList()
            : (await remote.ListAsync(context.CancellationToken).ConfigureAwait(false)).Select(e => e.Key).ToList();
        var keys = new List<string>();
        foreach (var text in given)
        {
            if (CacheKey.IsKey(text))
            {
                keys.Add(text);
                continue;
            }

            var matches = source.Where(k => k.StartsWith(text, StringComparison.Ordinal)).ToList();
            if (matches.Count != 1)
            {
                throw new DsgException(ErrorCodes.RemoteCacheTransferIncomplete,
                    $"Key prefix '{text}' matches {(matches.Count == 0 ? "no entry" : $"{matches.Count} entries")} in the {(push ? "local" : "remote")} cache; nothing was copied.",
                    $"Give a longer prefix or the whole key, as 'dotnet dsg cache list{(push ? "" : " --remote")} --json' prints it.");
            }

            keys.Add(matches[0]);
        }

        return keys.Distinct(StringComparer.Ordinal).ToList();
    }

    private static bool IsKeyOrPrefix(string text) =>
        text.Length is >= MinPrefixLength and <= 64 && text.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    private static void Print(VerbContext context, string verb, ArtifactCache store, RemoteCache remote, List<(string Key, CacheTransfer Outcome)> results)
    {
        var output = context.Environment.Output;
        if (context.Reporter.IsJson)
        {
            output.WriteLine(JsonLine.Format(w =>
            {
                w.WriteString("type", "cache");
                w.WriteString("action", verb);
                w.WriteString("path", store.Root);
                w.WriteString("remote", remote.BaseUri.AbsoluteUri);
                w.WriteStartArray("entries");
                foreach (var (key, outcome) in results)
                {
                    w.WriteStartObject();
                    w.WriteString("key", key);
                    w.WriteString("outcome", Name(outcome));
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }));
            return;
        }

        foreach (var (key, outcome) in results)
        {
            output.WriteLine($"  {key[..16]}  {Describe(outcome, verb == "push")}");
        }

        int copied = results.Count(r => r.Outcome == CacheTransfer.Copied);
        int there = results.Count(r => r.Outcome == CacheTransfer.AlreadyThere);
        output.WriteLine(verb == "push"
            ? $"push: uploaded {copied}, already on the remote {there}, failed {results.Count - copied - there} ({store.Root} -> {remote.BaseUri.AbsoluteUri})"
            : $"pull: downloaded {copied}, already here {there}, failed {results.Count - copied - there} ({remote.BaseUri.AbsoluteUri} -> {store.Root})");
    }

    private static string Name(CacheTransfer outcome) => outcome switch
    {
        CacheTransfer.Copied => "copied",
        CacheTransfer.AlreadyThere => "present",
        CacheTransfer.Missing => "missing",
        _ => "corrupt",
    };

    private static string Describe(CacheTransfer outcome, bool push) => outcome switch
    {
        CacheTransfer.Copied => push ? "uploaded" : "downloaded and verified",
        CacheTransfer.AlreadyThere => push ? "already on the remote" : "already here",
        CacheTransfer.Missing => push ? "not in the local cache" : "not on the remote",
        _ => push ? "corrupt in the local cache, not uploaded" : "corrupt on the remote, discarded",
    };
}
