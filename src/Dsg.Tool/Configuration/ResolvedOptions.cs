namespace Dsg.Tool.Configuration;

/// <summary>The effective settings and, for each setting name, where its value came from.</summary>
/// <param name="Options">The merged record.</param>
/// <param name="Sources">Setting name to source: <c>default</c>, the dsg.json path, <c>DSG_*</c> or the flag (<c>--samples</c>).</param>
/// <param name="ConfigFile">The dsg.json that was read, if any.</param>
internal sealed record ResolvedOptions(DsgOptions Options, IReadOnlyDictionary<string, string> Sources, string? ConfigFile);
