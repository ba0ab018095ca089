using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;

namespace Plateau.Contracts.Jobs;

[GenerateSerializer, Immutable, Alias("plateau.JobSummary")]
public sealed record JobSummary
{
    [Id(0)] public required string JobId { get; init; }
    [Id(1)] public required JobSpec Spec { get; init; }
    [Id(2)] public JobPhase Phase { get; init; }
    [Id(3)] public string PhaseReason { get; init; } = "";
    [Id(4)] public long Generation { get; init; }
    [Id(5)] public int WorldSize { get; init; }
    [Id(6)] public int Epoch { get; init; }
    [Id(7)] public long GlobalStep { get; init; }
    [Id(8)] public double LearningRate { get; init; }
    [Id(9)] public int Restarts { get; init; }
    [Id(10)] public JobProgress? Progress { get; init; }
    [Id(11)] public EpochMetrics? LatestMetrics { get; init; }
    [Id(12)] public EpochMetrics? BestMetrics { get; init; }
    [Id(13)] public IReadOnlyList<PhaseTransition> Transitions { get; init; } = [];
    [Id(14)] public IReadOnlyList<LrDecision> LrDecisions { get; init; } = [];
    [Id(15)] public CheckpointRecord? LatestCheckpoint { get; init; }
    [Id(16)] public DateTimeOffset CreatedAt { get; init; }
    [Id(17)] public DateTimeOffset UpdatedAt { get; init; }
    [Id(18)] public IReadOnlyList<EpochMetrics> MetricsHistory { get; init; } = [];
    /// <summary>Epochs of the whole job (derived from iterations for iteration budgets); 0 before the group formed.</summary>
    [Id(19)] public int TotalEpochs { get; init; }

    /// <summary>The plateau rule in force: the spec's, with the operators' changes applied (null: no plateau schedule).</summary>
    [Id(20)] public PlateauScheduleSpec? Plateau { get; init; }

    /// <summary>Every operator change to the schedule, oldest first.</summary>
    [Id(21)] public IReadOnlyList<ScheduleUpdate> ScheduleUpdates { get; init; } = [];
}
