using Plateau.Contracts.Jobs;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// The durable reason an unfinished job is active somewhere: a JobGrain holds this Orleans reminder from submit
/// until its job is Completed, Failed or Cancelled. Its tick only activates the grain; activation re-arms the
/// rendezvous deadline and worker-liveness timers from the persisted state, so a job whose coordinator silo
/// died resumes on the silo that takes over, at most one period later (<see cref="UnfinishedJobsWakeup"/> is
/// the fast path when a coordinator starts).
/// </summary>
public static class JobAliveReminder
{
    public const string Name = "plateau-job-alive";

    /// <summary>Orleans' shortest reminder period (<c>ReminderOptions.MinimumReminderPeriod</c>).</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMinutes(1);

    /// <summary>Whether a job in this state holds the reminder.</summary>
    public static bool Wanted(JobState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.Exists && !state.Phase.IsTerminal();
    }
}
