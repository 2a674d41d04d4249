using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Dsg.Tool.Output;

/// <summary>Formats one JSON object on one line (no indentation, readable non-ASCII).</summary>
internal static class JsonLine
{
    private static readonly JsonWriterOptions s_options = new() { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Format(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, s_options))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
