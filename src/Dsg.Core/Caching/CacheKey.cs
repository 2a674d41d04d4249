using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Dsg.Core.Caching;

/// <summary>
/// Computes content-addressed cache keys: SHA-256 over the model bytes, the normalised options that affect the
/// output (canonical JSON: keys sorted ordinally, no absolute paths), the tool version and
/// <see cref="AlgorithmVersion"/>. Two runs that would produce the same files get the same key on any machine.
/// </summary>
public static class CacheKey
{
    /// <summary>
    /// Bumped whenever generation, quantization or the entry layout changes in a way that makes old entries wrong
    /// even at the same tool version (for example during development between releases).
    /// </summary>
    /// <remarks>
    /// 2: DSG smooths its images by default (the generator's SmoothingSigma), so the same options give other samples.
    /// 3: quantization-aware fine-tuning (<c>--refine qat</c>) shifts and flips its images by default, so it learns other weights.
    /// 4: its fp32 teacher sees in fp32 the quantized weights it does not learn (ConvTranspose, Gemm with transA or a matrix C), which
    /// version 3 gave it quantized; BRECQ (<c>--refine brecq</c>) learns from the images and their mirror images by default.
    /// </remarks>
    public const int AlgorithmVersion = 4;

    /// <summary>Computes the key as 64 lowercase hex characters.</summary>
    /// <param name="modelContent">The model's bytes (and any external-data bytes, appended).</param>
    /// <param name="options">Options that affect the output, by name. Values must not hold absolute paths: hash file content instead (see <see cref="HashFile"/>).</param>
    /// <param name="toolVersion">The tool's version string.</param>
    public static string Compute(ReadOnlySpan<byte> modelContent, IReadOnlyDictionary<string, string?> options, string toolVersion)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(hash, $"dsg-cache\nalgorithm={AlgorithmVersion}\ntool={toolVersion}\nmodel=");
        hash.AppendData(SHA256.HashData(modelContent));
        Append(hash, "\noptions=");
        hash.AppendData(CanonicalJson(options));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The canonical JSON of <paramref name="options"/>: one object, keys sorted ordinally, values as strings or null.</summary>
    public static byte[] CanonicalJson(IReadOnlyDictionary<string, string?> options)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in options.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (value is not null && Path.IsPathFullyQualified(value))
                {
                    throw new ArgumentException($"Option '{name}' holds an absolute path ('{value}'); hash the file's content instead so the key is machine-independent.", nameof(options));
                }

                writer.WriteString(name, value);
            }

            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The SHA-256 of a file's content as <c>sha256:&lt;hex&gt;</c>, for options that name a file.</summary>
    public static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Whether <paramref name="text"/> looks like a key (64 lowercase hex characters).</summary>
    public static bool IsKey(string text) =>
        text.Length == 64 && text.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    private static void Append(IncrementalHash hash, string text) => hash.AppendData(Encoding.UTF8.GetBytes(text));
}
