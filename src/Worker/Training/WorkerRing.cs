using Plateau.Collective;
using Plateau.Contracts.Rendezvous;

namespace Plateau.Worker.Training;

/// <summary>
/// Where the choice between the flat ring and the hierarchy is made: <c>spec.communication.reduction</c>
/// (<c>auto</c>: hierarchical when <c>spec.workers.devicesPerWorker</c> &gt; 1). With the hierarchy the
/// ring runs over workers: ring rank = worker index = rank / devicesPerWorker (the coordinator numbers
/// ranks worker by worker, device by device), and worker w's ring address is its device 0's
/// (rank w × devicesPerWorker). Ranks for data sharding, validation and checkpoints stay per device.
/// </summary>
public static class WorkerRing
{
    /// <summary>The hierarchy's shape for <paramref name="assignment"/>, or null when it trains on the flat ring.
    /// Throws when the assignment's ranks are not numbered worker by worker as the hierarchy needs.</summary>
    public static (int WorkerIndex, int Workers, int Devices)? Plan(Assignment assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        var devices = assignment.Spec.Workers.DevicesPerWorker;
        if (!assignment.Spec.Communication.IsHierarchical(devices))
        {
            return null;
        }

        if (devices < 1 || assignment.WorldSize % devices != 0)
        {
            throw new InvalidOperationException($"hierarchical reduction: world size {assignment.WorldSize} is not a whole number of workers with devicesPerWorker {devices}");
        }

        if (assignment.Rank % devices != assignment.LocalRank)
        {
            throw new InvalidOperationException($"hierarchical reduction: rank {assignment.Rank} is local device {assignment.LocalRank}, but ranks must be numbered worker by worker (rank % devicesPerWorker {devices} = {assignment.Rank % devices})");
        }

        foreach (var peer in assignment.Peers)
        {
            if (peer.Rank % devices != peer.LocalRank || assignment.Peers.Any(p => p.Rank / devices == peer.Rank / devices && p.WorkerId != peer.WorkerId))
            {
                throw new InvalidOperationException($"hierarchical reduction: rank {peer.Rank} ({peer.WorkerId}, local device {peer.LocalRank}) does not sit at worker index {peer.Rank / devices}, local device {peer.Rank % devices}");
            }
        }

        return (assignment.Rank / devices, assignment.WorldSize / devices, devices);
    }

    /// <summary>The ring of workers' addresses: each worker's device 0's.</summary>
    public static IReadOnlyList<string> Addresses(IReadOnlyList<string> rankAddresses, int devices)
    {
        ArgumentNullException.ThrowIfNull(rankAddresses);
        return [.. Enumerable.Range(0, rankAddresses.Count / devices).Select(w => rankAddresses[w * devices])];
    }

    /// <summary>The worker's group of local devices for <paramref name="assignment"/>'s generation, or null on the flat ring.</summary>
    public static LocalDeviceGroup? NewLocalGroup(Assignment assignment, IReadOnlyList<string> rankAddresses, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Plan(assignment) is { } plan
            ? new LocalDeviceGroup(plan.WorkerIndex, plan.Workers, plan.Devices, options.CollectiveTimeout, rankAddresses)
            : null;
    }
}
