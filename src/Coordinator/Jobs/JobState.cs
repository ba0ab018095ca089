using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// Everything the JobGrain persists (invariant 1): a worker can be rebuilt from this plus the latest
/// checkpoint. Written after every transition, registration, epoch report and checkpoint commit.
/// </summary>
[GenerateSerializer]
public sealed class JobState
{
    [Id(0)] public string JobId { get; set; } = "";
    [Id(1)] public JobSpec? Spec { get; set; }
    [Id(2)] public JobPhase Phase { get; set; } = JobPhase.Pending;
    [Id(3)] public string PhaseReason { get; set; } = "";
    [Id(4)] public DateTimeOffset CreatedAt { get; set; }
    [Id(5)] public DateTimeOffset UpdatedAt { get; set; }
    [Id(6)] public List<PhaseTransition> Transitions { get; set; } = [];

    /// <summary>The generation being formed (Rendezvous) or running; 1 for the first group.</summary>
    [Id(7)] public long Generation { get; set; }
    /// <summary>Equal to <see cref="Generation"/> once that group formed; 0 while none is formed.</summary>
    [Id(8)] public long FormedGeneration { get; set; }
    [Id(9)] public int Restarts { get; set; }
    [Id(10)] public DateTimeOffset? RendezvousDeadline { get; set; }
    /// <summary>Workers waiting for the next formation.</summary>
    [Id(11)] public List<WorkerRegistration> Registrations { get; set; } = [];
    /// <summary>Members of the formed group, by rank.</summary>
    [Id(12)] public List<PeerInfo> Members { get; set; } = [];
    [Id(13)] public byte[] CollectiveSecret { get; set; } = [];
    [Id(14)] public DatasetSummary? Dataset { get; set; }
    [Id(15)] public int GlobalBatch { get; set; }
    [Id(16)] public int PerRankBatch { get; set; }
    [Id(17)] public long StepsPerEpoch { get; set; }
    [Id(18)] public int TotalEpochs { get; set; }
    /// <summary>The plan of the epoch being trained.</summary>
    [Id(19)] public EpochPlan? CurrentPlan { get; set; }
    /// <summary>End-of-epoch reports of the current epoch, by rank.</summary>
    [Id(20)] public Dictionary<int, EpochReport> EpochReports { get; set; } = [];
    [Id(21)] public PlateauSchedulerState Scheduler { get; set; } = new();
    [Id(22)] public List<LrDecision> LrDecisions { get; set; } = [];
    [Id(23)] public List<EpochMetrics> Metrics { get; set; } = [];
    [Id(24)] public List<CheckpointRecord> Checkpoints { get; set; } = [];
    /// <summary>Checkpoints begun but not committed, by id (Id 25 held their requests alone, before the scheduler was kept).</summary>
    [Id(37)] public Dictionary<string, PendingCheckpoint> PendingCheckpoints { get; set; } = [];
    [Id(26)] public List<JobEvent> Events { get; set; } = [];
    [Id(27)] public long LastEventSequence { get; set; }
    [Id(28)] public JobProgress? Progress { get; set; }
    /// <summary>Workers that registered while a group was running; they join at the next formation.</summary>
    [Id(29)] public List<WorkerRegistration> Standby { get; set; } = [];

    /// <summary>The checkpoint the formed group restores (null: fresh start).</summary>
    [Id(30)] public CheckpointRecord? ResumeFrom { get; set; }
    [Id(31)] public string? ResumePath { get; set; }
    /// <summary>The plan every rank of the formed group starts with.</summary>
    [Id(32)] public EpochPlan? FormationPlan { get; set; }
    /// <summary>The job was Paused when its group failed: the next generation forms Paused too.</summary>
    [Id(33)] public bool KeepPaused { get; set; }
    /// <summary>The plateau rule with the operators' changes (null: the spec's, unchanged). The spec itself is never changed.</summary>
    [Id(34)] public PlateauScheduleSpec? PlateauOverride { get; set; }
    /// <summary>An operator's forced drop, applied at the next epoch plan.</summary>
    [Id(35)] public ScheduleUpdate? PendingDrop { get; set; }
    /// <summary>Every operator change to the schedule, oldest first.</summary>
    [Id(36)] public List<ScheduleUpdate> ScheduleUpdates { get; set; } = [];

    public bool Exists => Spec is not null;

    /// <summary>Workers evicted as stragglers (spec.workers.evictStragglers): never admitted to this job again.</summary>
    [Id(38)] public List<string> Evicted { get; set; } = [];

    /// <summary>The formed group starts from a survivor's in-memory state (then <see cref="ResumeFrom"/> is null).</summary>
    [Id(39)] public PeerStateSource? ResumeFromPeer { get; set; }
}
