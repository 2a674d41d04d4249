using Dsg.Core.Evaluation;

namespace Dsg.Tool.Output;

/// <summary>The final line of a run: what it wrote and how it went.</summary>
/// <param name="Output">The main output (the quantized model, or the samples folder).</param>
/// <param name="Reports">Report files written beside it.</param>
/// <param name="CacheHit">Whether the files came from the cache.</param>
/// <param name="CacheKey">The cache key (null with --no-cache or when caching does not apply).</param>
/// <param name="Seconds">Wall time of the run.</param>
/// <param name="Agreement">Agreement with fp32 on held-out samples, when measured.</param>
/// <param name="Metric">How <paramref name="Agreement"/> was measured (top-1 when not given).</param>
internal sealed record RunResult(string Output, IReadOnlyList<string> Reports, bool CacheHit, string? CacheKey, double Seconds, double? Agreement,
    AgreementMetric? Metric = null)
{
    /// <summary>Whether the hit was downloaded from the remote cache (<see cref="CacheHit"/> is true then too).</summary>
    public bool RemoteHit { get; init; }

    /// <summary>Whether this run produced the entry and uploaded it to the remote cache.</summary>
    public bool Uploaded { get; init; }
}
