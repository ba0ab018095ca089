using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Training;

namespace Plateau.Worker.Training;

/// <summary>The trainer's calls, sent to the job's JobGrain (and seals to the job's sealer grain, so reading a
/// checkpoint file never blocks the JobGrain).</summary>
public sealed class JobGrainChannel(IJobGrain job, ICheckpointSealerGrain sealer) : IJobChannel
{
    public Task<EpochPlanResult> GetEpochPlan(long generation, int epoch) => job.GetEpochPlan(generation, epoch);

    public Task<ProgressAck> ReportProgress(ProgressReport report) => job.ReportProgress(report);

    public Task ReportEpoch(EpochReport report) => job.ReportEpoch(report);

    public Task ReportFailure(FailureReport report) => job.ReportFailure(report);

    public Task<CheckpointTicket> BeginCheckpoint(CheckpointRequest request) => job.BeginCheckpoint(request);

    public Task<CheckpointRecord> CommitCheckpoint(CheckpointCommit commit) => job.CommitCheckpoint(commit);

    public Task AbortCheckpoint(CheckpointAbort abort) => job.AbortCheckpoint(abort);

    public Task SealCheckpoint(CheckpointCommit commit) => sealer.Seal(commit);

    public Task RejectRestore(RestoreRejection rejection) => job.RejectRestore(rejection);
}
