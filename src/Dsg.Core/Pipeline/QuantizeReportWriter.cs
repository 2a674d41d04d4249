using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dsg.Core.Pipeline;

/// <summary>Renders a <see cref="QuantizeReport"/> as JSON (camelCase; ±Infinity spelled out) and as Markdown.</summary>
public static class QuantizeReportWriter
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The report as indented JSON.</summary>
    public static string ToJson(QuantizeReport report) => JsonSerializer.Serialize(report, s_json);

    /// <summary>A report read back from JSON.</summary>
    public static QuantizeReport? FromJson(string json) => JsonSerializer.Deserialize<QuantizeReport>(json, s_json);

    /// <summary>The report as Markdown.</summary>
    public static string ToMarkdown(QuantizeReport r)
    {
        var c = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(c, $"# Dsg quantization report: {Path.GetFileName(r.Output)}");
        md.AppendLine();
        md.AppendLine(c, $"- Model: `{r.Model}`");
        md.AppendLine(c, $"- Output: `{r.Output}` ({r.Precision}, Dsg {r.DsgVersion})");
        if (r.Import.Count > 0)
        {
            md.AppendLine(c, $"- Import: {string.Join("; ", r.Import)}");
        }

        md.AppendLine(c, $"- Samples: {r.SourceDescription}");
        if (r.Budget is { } budget)
        {
            md.AppendLine(c, $"- Generation {budget}");
        }
        if (r.InputConvention is { } input)
        {
            md.AppendLine(c, $"- Input convention: {input.Describe()}");
        }

        var metric = Evaluation.AgreementMetrics.Parse(r.AgreementMetric) ?? Evaluation.AgreementMetric.TopOne;
        string minimum = r.MinAgreement is { } m ? $" (minimum {Evaluation.AgreementMetrics.Format(metric, m)})" : "";
        md.AppendLine(c, $"- Output kind: {r.OutputDescription ?? r.OutputKind}; agreement metric: {Evaluation.AgreementMetrics.Describe(metric)}");
        md.AppendLine(c, $"- **{Capitalise(Evaluation.AgreementMetrics.Describe(metric))} with fp32 on {r.HeldOutSamples} held-out samples: {Evaluation.AgreementMetrics.Format(metric, r.Agreement)}**{minimum}");
        md.AppendLine(c, $"- Output SQNR: {Db(r.OutputSqnrDb)} dB");
        md.AppendLine(c, $"- BatchNorm folded: {r.FoldedBatchNorms}; int32 biases: {r.Int32Biases}");
        md.AppendLine(c, $"- File size: {r.Fp32Bytes:N0} → {r.QuantizedBytes:N0} bytes ({(r.QuantizedBytes > 0 ? (double)r.Fp32Bytes / r.QuantizedBytes : 0):F2}× smaller)");
        md.AppendLine();
        md.AppendLine("## Options");
        md.AppendLine();
        md.AppendLine("| option | value |");
        md.AppendLine("| --- | --- |");
        foreach (var (key, value) in r.Options)
        {
            md.AppendLine(c, $"| {key} | {Convert.ToString(value, c)} |");
        }

        md.AppendLine();
        md.AppendLine("## Timings (seconds)");
        md.AppendLine();
        md.AppendLine(string.Join(" | ", r.Seconds.Select(p => string.Create(c, $"{p.Key} {p.Value:F2}"))));
        md.AppendLine();
        md.AppendLine("## Layers");
        md.AppendLine();
        md.AppendLine("| layer | op | position | weight bits | weight SQNR (dB) | input | input bits | input SQNR (dB) |");
        md.AppendLine("| --- | --- | --- | ---: | ---: | --- | ---: | ---: |");
        foreach (var l in r.Layers)
        {
            md.AppendLine(c, $"| {l.Node} | {l.OpType} | {l.Position} | {l.WeightBits} | {Db(l.WeightSqnrDb)} | {l.Input ?? "-"} | {l.InputBits?.ToString(c) ?? "-"} | {(l.InputSqnrDb is { } s ? Db(s) : "-")} |");
        }

        md.AppendLine();
        if (r.Refinement.Count > 0)
        {
            md.AppendLine("## Refinement");
            md.AppendLine();
            md.AppendLine("| layer | steps | error, nearest rounding | error, learned rounding | integers changed | seconds |");
            md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
            foreach (var l in r.Refinement)
            {
                md.AppendLine(c, $"| {l.Node} | {l.Iterations} | {l.NearestError:G4} | {l.LearnedError:G4} | {l.Changed:P1} | {l.Seconds:F1} |");
            }

            md.AppendLine();
        }

        md.AppendLine("## Activations");
        md.AppendLine();
        md.AppendLine("| tensor | bits | observed [min, max] | range [min, max] | scale | zero point | SQNR (dB) |");
        md.AppendLine("| --- | ---: | --- | --- | ---: | ---: | ---: |");
        foreach (var a in r.Activations)
        {
            md.AppendLine(c, $"| {a.Tensor} | {a.Bits} | [{a.ObservedMin:G4}, {a.ObservedMax:G4}] | [{a.RangeMin:G4}, {a.RangeMax:G4}] | {a.Scale:G4} | {a.ZeroPoint} | {Db(a.SqnrDb)} |");
        }

        return md.ToString();
    }

    private static string Capitalise(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    private static string Db(double value) => double.IsPositiveInfinity(value) ? "∞" : value.ToString("F1", CultureInfo.InvariantCulture);
}
