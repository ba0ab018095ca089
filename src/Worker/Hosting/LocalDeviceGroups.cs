using Plateau.Collective;
using Plateau.Contracts.Rendezvous;
using Plateau.Worker.Training;

namespace Plateau.Worker.Hosting;

/// <summary>
/// The worker's <see cref="LocalDeviceGroup"/> per job generation, shared by its devices' trainers when
/// the job reduces hierarchically (<see cref="WorkerRing"/>): the first device started for a generation
/// creates it, the others find it; a newer generation of the job replaces the older one's entry.
/// </summary>
public sealed class LocalDeviceGroups
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (long Generation, LocalDeviceGroup Group)> _byJob = new(StringComparer.Ordinal);

    /// <summary>The group for <paramref name="assignment"/>'s job and generation, or null on the flat ring.</summary>
    public LocalDeviceGroup? For(Assignment assignment, IReadOnlyList<string> rankAddresses, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        if (WorkerRing.Plan(assignment) is null)
        {
            return null;
        }

        lock (_lock)
        {
            if (_byJob.TryGetValue(assignment.JobId, out var current) && current.Generation == assignment.Generation)
            {
                return current.Group;
            }

            var group = WorkerRing.NewLocalGroup(assignment, rankAddresses, options)!;
            if (!_byJob.TryGetValue(assignment.JobId, out current) || current.Generation < assignment.Generation)
            {
                _byJob[assignment.JobId] = (assignment.Generation, group);
            }

            return group;
        }
    }
}
