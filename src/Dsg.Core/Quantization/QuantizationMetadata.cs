using System.Reflection;

namespace Dsg.Core.Quantization;

/// <summary>The metadata_props keys Dsg adds to a quantized model.</summary>
public static class QuantizationMetadata
{
    /// <summary>Key of the Dsg version that wrote the model.</summary>
    public const string VersionKey = "dsg.version";

    /// <summary>Key of the quantization options (JSON, effective values).</summary>
    public const string OptionsKey = "dsg.quantization";

    /// <summary>The Dsg version (SemVer, informational version of Dsg.Core without build metadata).</summary>
    public static string DsgVersion { get; } =
        (typeof(QuantizationMetadata).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0")
        .Split('+')[0];
}
