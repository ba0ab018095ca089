namespace Plateau.Contracts.Jobs;

[GenerateSerializer]
public enum JobEventKind
{
    Transition,
    WorkerJoined,
    GroupFormed,
    Progress,
    EpochMetrics,
    LrDecision,
    CheckpointCommitted,
    Failure,
    /// <summary>Something the operator should see that does not stop the job (e.g. skipped non-finite steps).</summary>
    Warning,
    /// <summary>An operator changed the plateau schedule (UpdateSchedule).</summary>
    ScheduleUpdated,
}
