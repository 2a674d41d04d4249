using System.Reflection;
using System.Security.Cryptography;
using Dsg.Core.Onnx.Proto;

namespace Dsg.Core.Quantization;

/// <summary>The metadata_props keys Dsg adds to a quantized model.</summary>
public static class QuantizationMetadata
{
    /// <summary>Key of the Dsg version that wrote the model.</summary>
    public const string VersionKey = "dsg.version";

    /// <summary>Key of the quantization options (JSON, effective values).</summary>
    public const string OptionsKey = "dsg.quantization";

    /// <summary>Key of the SHA-256 (lower-case hex) of the fp32 model file the model was quantized from.</summary>
    public const string SourceSha256Key = "dsg.source.sha256";

    /// <summary>Key of the file name of the fp32 model the model was quantized from (informational: the hash decides).</summary>
    public const string SourceFileKey = "dsg.source.file";

    /// <summary>The SHA-256 of a file's bytes, lower-case hex: what <see cref="SourceSha256Key"/> records.</summary>
    public static string FileSha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Records in <paramref name="quantized"/> which model file it was quantized from.</summary>
    public static void StampSource(ModelProto quantized, string sourceSha256, string sourceFileName)
    {
        Set(quantized, SourceSha256Key, sourceSha256);
        Set(quantized, SourceFileKey, sourceFileName);
    }

    /// <summary>The source a quantized model records (<see cref="StampSource"/>), or null when it records none.</summary>
    public static (string Sha256, string? FileName)? SourceOf(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var sha = model.MetadataProps.LastOrDefault(p => p.Key == SourceSha256Key)?.Value;
        return string.IsNullOrEmpty(sha) ? null : (sha, model.MetadataProps.LastOrDefault(p => p.Key == SourceFileKey)?.Value);
    }

    /// <summary>Sets a metadata_props entry, replacing an existing one with the key.</summary>
    public static void Set(ModelProto proto, string key, string value)
    {
        ArgumentNullException.ThrowIfNull(proto);
        var existing = proto.MetadataProps.FirstOrDefault(p => p.Key == key);
        if (existing is not null)
        {
            existing.Value = value;
        }
        else
        {
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }
    }

    /// <summary>The Dsg version (SemVer, informational version of Dsg.Core without build metadata).</summary>
    public static string DsgVersion { get; } =
        (typeof(QuantizationMetadata).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0")
        .Split('+')[0];
}
