using System;
using System.Collections.Generic;
using System.Linq;

namespace Dsg.Build.Tasks;

/// <summary>One line of the tool's <c>--json</c> output (see the tool/MSBuild contract in docs/msbuild.md).</summary>
internal sealed class ToolMessage
{
    private readonly Dictionary<string, object?> _fields;

    private ToolMessage(Dictionary<string, object?> fields) => _fields = fields;

    /// <summary><c>phase</c>, <c>progress</c>, <c>warning</c>, <c>error</c> or <c>result</c>.</summary>
    public string Type => Text("type") ?? string.Empty;

    public string? Code => Text("code");

    public string? Message => Text("message");

    public string? Hint => Text("hint");

    public string? File => Text("file");

    public string? Phase => Text("phase");

    public string? Status => Text("status");

    public string? Output => Text("output");

    public bool CacheHit => _fields.TryGetValue("cacheHit", out object? v) && v is true;

    /// <summary>Whether the hit came from the remote cache (absent from older tools: false).</summary>
    public bool RemoteHit => _fields.TryGetValue("remoteHit", out object? v) && v is true;

    /// <summary>Whether the tool produced the entry and uploaded it to the remote cache (absent from older tools: false).</summary>
    public bool Uploaded => _fields.TryGetValue("uploaded", out object? v) && v is true;

    public double? Seconds => Number("seconds");

    public double? Agreement => Number("agreement");

    /// <summary>How <see cref="Agreement"/> was measured: <c>top-1</c> or <c>cosine</c> (absent from older tools: top-1).</summary>
    public string? AgreementMetric => Text("agreementMetric");

    public double? Current => Number("current");

    public double? Total => Number("total");

    /// <summary>Seconds the phase has run, on a progress line (absent from older tools).</summary>
    public double? ElapsedSeconds => Number("elapsedSeconds");

    /// <summary>Estimated seconds the phase has left, on a progress line; null until the tool can estimate it.</summary>
    public double? EtaSeconds => Number("etaSeconds");

    /// <summary>The report files a result line lists.</summary>
    public IReadOnlyList<string> Reports => Strings("reports");

    /// <summary>The strings of an array field (empty when absent).</summary>
    public IReadOnlyList<string> Strings(string key) =>
        _fields.TryGetValue(key, out object? v) && v is List<object?> list ? list.OfType<string>().ToList() : (IReadOnlyList<string>)Array.Empty<string>();

    /// <summary>The objects of an array field (empty when absent), each field name to value.</summary>
    public IReadOnlyList<Dictionary<string, object?>> Objects(string key) =>
        _fields.TryGetValue(key, out object? v) && v is List<object?> list
            ? list.OfType<Dictionary<string, object?>>().ToList()
            : (IReadOnlyList<Dictionary<string, object?>>)Array.Empty<Dictionary<string, object?>>();

    /// <summary>Parses a line; false for anything that is not a JSON object with a string <c>type</c>.</summary>
    public static bool TryParse(string line, out ToolMessage message)
    {
        message = new ToolMessage(new Dictionary<string, object?>());
        if (!JsonLineReader.TryReadObject(line, out Dictionary<string, object?> fields) || fields.TryGetValue("type", out object? t) is false || t is not string)
        {
            return false;
        }

        message = new ToolMessage(fields);
        return true;
    }

    private string? Text(string key) => _fields.TryGetValue(key, out object? v) ? v as string : null;

    private double? Number(string key) => _fields.TryGetValue(key, out object? v) && v is double d ? d : null;
}
