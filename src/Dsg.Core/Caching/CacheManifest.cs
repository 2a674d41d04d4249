using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dsg.Core.Caching;

/// <summary>
/// <c>manifest.json</c> of a cache entry: every file with its size and SHA-256, plus metadata the producer
/// recorded (for example the measured agreement), so a hit can be verified and reported without re-running.
/// </summary>
public sealed record CacheManifest(
    string Key,
    string ToolVersion,
    int AlgorithmVersion,
    DateTimeOffset CreatedUtc,
    IReadOnlyList<CacheFile> Files,
    IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>The manifest's file name inside an entry.</summary>
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The total size of the entry's files in bytes.</summary>
    public long SizeBytes => Files.Sum(f => f.Size);

    /// <summary>Serialises the manifest.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    /// <summary>Reads a manifest; null when the file is missing or not a manifest.</summary>
    public static CacheManifest? TryRead(string path)
    {
        try
        {
            return TryParse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Parses a manifest's JSON; null when it is not a manifest.</summary>
    public static CacheManifest? TryParse(string json)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize<CacheManifest>(json, s_json);
            return manifest is { Key: not null, Files: not null, Metadata: not null } && manifest.Files.All(f => f is { Name: not null, Sha256: not null })
                ? manifest : null;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            return null;
        }
    }
}
