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
}
