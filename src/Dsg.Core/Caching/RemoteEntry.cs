namespace Dsg.Core.Caching;

/// <summary>An entry the remote cache lists: its key, the archive's size in bytes (-1 when not told) and when it was stored.</summary>
public sealed record RemoteEntry(string Key, long SizeBytes, DateTimeOffset? LastModifiedUtc);
