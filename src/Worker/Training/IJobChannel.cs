using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Training;
using Plateau.Worker.Checkpointing;

namespace Plateau.Worker.Training;

/// <summary>The calls a trainer makes to its job (the JobGrain in a cluster, a fake in tests).</summary>
public interface IJobChannel : ICheckpointSealer
{
    Task<EpochPlanResult> GetEpochPlan(long generation, int epoch);

    Task<ProgressAck> ReportProgress(ProgressReport report);

    Task ReportEpoch(EpochReport report);

    Task ReportFailure(FailureReport report);

    Task<CheckpointTicket> BeginCheckpoint(CheckpointRequest request);

    Task<CheckpointRecord> CommitCheckpoint(CheckpointCommit commit);

    Task AbortCheckpoint(CheckpointAbort abort);

    Task RejectRestore(RestoreRejection rejection);
}
