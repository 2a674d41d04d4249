namespace Dsg.Core.Caching;

/// <summary>Something the cache noticed and recovered from, for the front end to show (for example a corrupt entry).</summary>
public sealed record CacheWarning(string Code, string Message);
