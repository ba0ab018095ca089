using Orleans.Runtime;
using Orleans.Runtime.Placement;
using Plateau.Contracts.Workers;

namespace Plateau.Cluster.Placement;

/// <summary>Orleans' side of <see cref="OwningWorkerPlacement"/>: reads silo names from the membership.</summary>
public sealed class OwningWorkerPlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var key = target.GrainIdentity.Key.ToString()!;
        var members = membership.CurrentSnapshot.Members;
        var silo = OwningWorkerSilo.Choose(key, WorkerGrainKey.Parse(key).WorkerId, context.GetCompatibleSilos(target),
            address => members.TryGetValue(address, out var member) ? member.Name : null);
        return Task.FromResult(silo);
    }
}
