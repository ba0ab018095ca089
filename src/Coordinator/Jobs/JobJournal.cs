using Plateau.Contracts.Jobs;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// The job's history: phase transitions (checked against <see cref="JobTransitions"/>) and the event log
/// that watchers page through, capped at <see cref="MaxEvents"/>.
/// </summary>
public sealed class JobJournal(JobContext job)
{
    /// <summary>Events kept per job; older ones are dropped (the transitions and metrics stay in full).</summary>
    public const int MaxEvents = 2000;

    private JobState S => job.State;

    public void Transition(JobPhase to, string reason)
    {
        var from = S.Phase;
        if (!JobTransitions.IsAllowed(from, to))
        {
            throw new JobTransitionException(job.JobId, from, $"move to {to}");
        }

        S.Phase = to;
        S.PhaseReason = reason;
        S.Transitions.Add(new PhaseTransition(from, to, reason, job.Now, S.Generation));
        JobTelemetry.Phase(job.JobId, from, to, reason, S.Generation, S.CreatedAt);
        Add(JobEventKind.Transition, $"{from} → {to}: {reason}", new PhaseChangeDetail(S.Transitions[^1]));
        JobLog.Transition(job.Logger, job.JobId, from, to, reason);
    }

    public void Add(JobEventKind kind, string message, JobEventDetail? detail = null)
    {
        S.LastEventSequence++;
        S.Events.Add(new JobEvent(S.LastEventSequence, job.Now, kind, message, S.Phase, S.Generation, detail));
        if (S.Events.Count > MaxEvents)
        {
            S.Events.RemoveRange(0, S.Events.Count - MaxEvents);
        }
    }

    /// <summary>Events after <paramref name="afterSequence"/>, at most <paramref name="maxEvents"/> (clamped to 1..1000).</summary>
    public (IReadOnlyList<JobEvent> Events, long LastSequence) After(long afterSequence, int maxEvents)
    {
        var events = S.Events.Where(e => e.Sequence > afterSequence).Take(Math.Clamp(maxEvents, 1, 1000)).ToList();
        return (events, events.Count > 0 ? events[^1].Sequence : Math.Max(afterSequence, 0));
    }
}
