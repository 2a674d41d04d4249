namespace Dsg.Core.Caching;

/// <summary>What a prune or clear removed and what is left.</summary>
public sealed record PruneResult(int RemovedEntries, long RemovedBytes, int RemainingEntries, long RemainingBytes);
