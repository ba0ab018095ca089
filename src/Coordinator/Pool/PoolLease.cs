namespace Plateau.Coordinator.Pool;

/// <summary>A pooled worker counted against <paramref name="JobId"/> until <paramref name="Expires"/> unless it renews.</summary>
internal readonly record struct PoolLease(string JobId, DateTimeOffset Expires);
