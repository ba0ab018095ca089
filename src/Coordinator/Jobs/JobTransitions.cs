using Plateau.Contracts.Jobs;

namespace Plateau.Coordinator.Jobs;

/// <summary>The allowed edges of Pending → Rendezvous → Running ⇄ Paused → Completed | Failed | Cancelled.</summary>
public static class JobTransitions
{
    private static readonly Dictionary<JobPhase, JobPhase[]> Allowed = new()
    {
        [JobPhase.Pending] = [JobPhase.Rendezvous, JobPhase.Failed, JobPhase.Cancelled],
        // Rendezvous → Rendezvous: a member re-registered or failed before the group started.
        [JobPhase.Rendezvous] = [JobPhase.Running, JobPhase.Rendezvous, JobPhase.Failed, JobPhase.Cancelled],
        [JobPhase.Running] = [JobPhase.Paused, JobPhase.Rendezvous, JobPhase.Completed, JobPhase.Failed, JobPhase.Cancelled],
        [JobPhase.Paused] = [JobPhase.Running, JobPhase.Rendezvous, JobPhase.Failed, JobPhase.Cancelled],
        [JobPhase.Completed] = [],
        [JobPhase.Failed] = [],
        [JobPhase.Cancelled] = [],
    };

    public static bool IsAllowed(JobPhase from, JobPhase to) => Allowed[from].Contains(to);
}
