using System.Text.Json;

namespace Dsg.Tool.Tests;

/// <summary>The outcome of one <c>dotnet dsg</c> command line.</summary>
internal sealed record ToolRun(int ExitCode, string Output, string Error)
{
    /// <summary>Standard output's lines parsed as JSON objects.</summary>
    public IReadOnlyList<JsonElement> JsonLines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();

    /// <summary>The single JSON line of the given type.</summary>
    public JsonElement Line(string type) => Assert.Single(JsonLines, l => l.GetProperty("type").GetString() == type);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}
