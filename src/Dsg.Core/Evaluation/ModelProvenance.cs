using Dsg.Core.Onnx;
using Dsg.Core.Quantization;

namespace Dsg.Core.Evaluation;

/// <summary>Whether a quantized model records that it was made from a given fp32 model file.</summary>
public enum ProvenanceStatus
{
    /// <summary>The quantized model records the SHA-256 of this very fp32 file.</summary>
    Matches,

    /// <summary>The quantized model records another file: the two do not belong together.</summary>
    Differs,

    /// <summary>The quantized model records no source (made by another tool, or by a Dsg that did not record it).</summary>
    NotRecorded,
}

/// <summary>
/// What a quantized model says about its source (metadata <c>dsg.source.sha256</c> and <c>dsg.source.file</c>, written
/// by the quantize pipeline through <see cref="QuantizationMetadata"/>) against the fp32 file it is compared with.
/// </summary>
/// <param name="Status">Whether they belong together.</param>
/// <param name="ReferenceSha256">The SHA-256 of the fp32 file given.</param>
/// <param name="RecordedSha256">The SHA-256 the quantized model records, or null.</param>
/// <param name="RecordedFile">The file name it records, or null.</param>
public sealed record ModelProvenance(ProvenanceStatus Status, string ReferenceSha256, string? RecordedSha256, string? RecordedFile)
{
    /// <summary>Compares <paramref name="candidate"/>'s record with the file at <paramref name="referencePath"/>.</summary>
    public static ModelProvenance Check(string referencePath, OnnxModel candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        string reference = QuantizationMetadata.FileSha256(referencePath);
        if (QuantizationMetadata.SourceOf(candidate.Proto) is not { } source)
        {
            return new ModelProvenance(ProvenanceStatus.NotRecorded, reference, null, null);
        }

        var status = string.Equals(source.Sha256, reference, StringComparison.OrdinalIgnoreCase) ? ProvenanceStatus.Matches : ProvenanceStatus.Differs;
        return new ModelProvenance(status, reference, source.Sha256, source.FileName);
    }

    /// <summary>The warning (code <see cref="ErrorCodes.NotQuantizedFromReference"/>) for a pair that does not belong together; null otherwise.</summary>
    public string? Warning(string referencePath, string candidatePath) => Status != ProvenanceStatus.Differs ? null
        : $"'{candidatePath}' was quantized from {(RecordedFile is null ? "another model" : $"'{RecordedFile}'")} (SHA-256 {Short(RecordedSha256!)}), not from '{referencePath}' (SHA-256 {Short(ReferenceSha256)}): the figures below compare models that do not belong together. Pass the fp32 model it was quantized from.";

    /// <summary>For example <c>matches</c>, <c>differs</c>, <c>not recorded</c>.</summary>
    public string StatusName => Status switch
    {
        ProvenanceStatus.Matches => "matches",
        ProvenanceStatus.Differs => "differs",
        _ => "not recorded",
    };

    private static string Short(string sha) => sha.Length > 12 ? sha[..12] + "..." : sha;
}
