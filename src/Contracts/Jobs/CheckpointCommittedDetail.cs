using Plateau.Contracts.Checkpoints;

namespace Plateau.Contracts.Jobs;

/// <summary>A checkpoint was verified and committed.</summary>
[GenerateSerializer, Immutable, Alias("plateau.CheckpointCommittedDetail")]
public sealed record CheckpointCommittedDetail([property: Id(0)] CheckpointRecord Checkpoint) : JobEventDetail;
