using Orleans.Placement;

namespace Plateau.Contracts.Workers;

/// <summary>
/// Places a WorkerGrain on the silo of the worker process its key names (the silo whose name is that
/// worker ID), and nowhere else: a device's grain means nothing on another process. Every silo that may
/// place one registers the director (<c>UsePlateauCluster</c>).
/// </summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class OwningWorkerPlacement : PlacementStrategy
{
    public static OwningWorkerPlacement Singleton { get; } = new();
}
