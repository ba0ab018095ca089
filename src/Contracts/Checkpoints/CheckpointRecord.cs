using Plateau.Contracts.Training;

namespace Plateau.Contracts.Checkpoints;

/// <summary>A committed checkpoint in the job's registry.</summary>
[GenerateSerializer, Immutable, Alias("plateau.CheckpointRecord")]
public sealed record CheckpointRecord
{
    [Id(0)] public required string CheckpointId { get; init; }
    [Id(1)] public long Generation { get; init; }
    [Id(2)] public int Epoch { get; init; }
    [Id(3)] public long Cursor { get; init; }
    [Id(4)] public long GlobalStep { get; init; }
    [Id(5)] public long SizeBytes { get; init; }
    [Id(6)] public required string Sha256 { get; init; }
    [Id(7)] public DateTimeOffset CommittedAt { get; init; }
    /// <summary>The schedule's state when the checkpoint was taken (invariant 4).</summary>
    [Id(8)] public PlateauSchedulerState? Scheduler { get; init; }
    [Id(9)] public double LearningRate { get; init; }
    /// <summary>The selection metric (the plateau metric, else val top-1 error) of the epoch before it; null when that epoch had none.</summary>
    [Id(10)] public double? Metric { get; init; }
    /// <summary>Kept whatever the retention counts say: the first checkpoint after a learning-rate drop.</summary>
    [Id(11)] public bool Pinned { get; init; }
}
