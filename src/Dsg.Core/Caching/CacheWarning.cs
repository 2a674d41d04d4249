namespace Dsg.Core.Caching;

/// <summary>
/// Something the cache noticed, for the front end to show: a recovered problem with its code (for example a corrupt
/// entry, <see cref="ErrorCodes.CacheEntryCorrupt"/>), or a note without a code (for example waiting for another process).
/// </summary>
public sealed record CacheWarning(string? Code, string Message);
