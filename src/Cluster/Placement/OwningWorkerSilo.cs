using Orleans.Runtime;

namespace Plateau.Cluster.Placement;

/// <summary>Which silo runs a worker process's grains: the pure rule behind the placement director.</summary>
public static class OwningWorkerSilo
{
    /// <summary>
    /// The compatible silo named <paramref name="workerId"/>; if a restarted worker process has joined before
    /// its dead predecessor left the membership, the newest generation. Throws naming the active silos when
    /// the worker process is not in the cluster, so the caller's delivery fails with that reason instead of
    /// activating the grain on a process that does not own the device.
    /// </summary>
    public static SiloAddress Choose(string grainKey, string workerId, IEnumerable<SiloAddress> compatible, Func<SiloAddress, string?> nameOf)
    {
        ArgumentNullException.ThrowIfNull(compatible);
        ArgumentNullException.ThrowIfNull(nameOf);
        var candidates = compatible.ToList();
        var owner = candidates.Where(silo => nameOf(silo) == workerId).MaxBy(silo => silo.Generation);
        return owner ?? throw new OrleansException(
            $"WorkerGrain '{grainKey}' has nowhere to run: worker process {workerId} is not an active member of the cluster " +
            $"(silos that host worker grains: {(candidates.Count == 0 ? "none" : string.Join(", ", candidates.Select(s => nameOf(s) ?? s.ToString())))})");
    }
}
