using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;

namespace Plateau.Contracts.Jobs;

/// <summary>
/// One training job (key: job id). The single source of truth for the job (DESIGN.md invariant 1):
/// its state machine, rendezvous, epoch plans, learning-rate decisions and checkpoint registry.
/// Every call that carries a generation throws <see cref="StaleGenerationException"/> when that
/// generation is not the current one (invariant 2).
/// </summary>
[Alias("plateau.IJobGrain")]
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>Accepts a spec (Pending → Rendezvous). Throws <see cref="JobSpecInvalidException"/> or,
    /// when the job already exists, <see cref="JobTransitionException"/>.</summary>
    [Alias("Submit")]
    Task<JobSummary> Submit(JobSpec spec);

    /// <summary>The job's current summary, or null when no job with this id was ever submitted.</summary>
    [Alias("GetSummary")]
    Task<JobSummary?> GetSummary();

    /// <summary>The job's phase, age, size and the workers it holds (for the worker pool), or null when no job with this id was ever submitted.</summary>
    [Alias("GetStaffing")]
    Task<JobStaffing?> GetStaffing();

    /// <summary>Events (transitions, LR decisions, metrics, progress, checkpoints) after a sequence number.</summary>
    [Alias("GetEvents")]
    Task<JobEventPage> GetEvents(long afterSequence, int maxEvents);

    [Alias("Cancel")]
    Task<JobSummary> Cancel(string reason);

    /// <summary>Running → Paused: the ranks are asked to pause at a common step.</summary>
    [Alias("Pause")]
    Task<JobSummary> Pause(string reason);

    /// <summary>Paused → Running.</summary>
    [Alias("Resume")]
    Task<JobSummary> Resume(string reason);

    /// <summary>A worker process offers its devices. The assignment itself arrives on each device's
    /// <see cref="Workers.IWorkerGrain.StartTraining"/> once the group forms (or from <see cref="GetAssignment"/>).
    /// Call it from the worker host, not from inside a WorkerGrain turn.</summary>
    [Alias("RegisterWorker")]
    Task<RendezvousResult> RegisterWorker(WorkerRegistration registration);

    /// <summary>The assignment of one device in the current generation, or null when it has none.</summary>
    [Alias("GetAssignment")]
    Task<Assignment?> GetAssignment(string workerId, string deviceId);

    /// <summary>Throttled progress from one rank; the answer tells the worker to continue, pause or stop.</summary>
    [Alias("ReportProgress")]
    Task<ProgressAck> ReportProgress(ProgressReport report);

    /// <summary>One rank's counts for an epoch. When every rank of the generation has reported, the sums
    /// become the epoch's metrics and the scheduler steps.</summary>
    [Alias("ReportEpoch")]
    Task ReportEpoch(EpochReport report);

    /// <summary>A rank saw a peer (or itself) fail: the group re-forms from the last committed
    /// checkpoint, or the job fails after <c>maxRestarts</c>.</summary>
    [Alias("ReportFailure")]
    Task ReportFailure(FailureReport report);

    /// <summary>The plan for an epoch: ready once the previous epoch's metrics are in.</summary>
    [Alias("GetEpochPlan")]
    Task<EpochPlanResult> GetEpochPlan(long generation, int epoch);

    /// <summary>Starts a checkpoint transaction and names where to upload it.</summary>
    [Alias("BeginCheckpoint")]
    Task<CheckpointTicket> BeginCheckpoint(CheckpointRequest request);

    /// <summary>Renames the sealed upload (its size and SHA-256 verified by the CheckpointTransfer service or the
    /// <see cref="ICheckpointSealerGrain"/>) into place atomically and records it. A checkpoint that is not
    /// committed does not exist.</summary>
    [Alias("CommitCheckpoint")]
    Task<CheckpointRecord> CommitCheckpoint(CheckpointCommit commit);

    /// <summary>The writer could not finish a begun checkpoint: it is dropped, its staging file removed,
    /// and the job says so in its events; training goes on and the last committed checkpoint stays.</summary>
    [Alias("AbortCheckpoint")]
    Task AbortCheckpoint(CheckpointAbort abort);

    /// <summary>The rank that loaded the generation's restore checkpoint found its bytes are not the committed
    /// ones: the checkpoint is dropped and the group re-forms from the one before (not counted as a restart).</summary>
    [Alias("RejectRestore")]
    Task RejectRestore(RestoreRejection rejection);

    /// <summary>Committed checkpoints, oldest first.</summary>
    [Alias("GetCheckpoints")]
    Task<IReadOnlyList<CheckpointRecord>> GetCheckpoints();

    /// <summary>The running generation's ranks as their latest progress reports describe them (empty when none is running).</summary>
    [Alias("GetThroughput")]
    Task<IReadOnlyList<RankThroughput>> GetThroughput();

    /// <summary>An operator's change to the plateau schedule of a job that has not ended; the new settings
    /// apply from the next evaluation, a forced drop at the next epoch plan.</summary>
    [Alias("UpdateSchedule")]
    Task<JobSummary> UpdateSchedule(ScheduleUpdate update);
}
