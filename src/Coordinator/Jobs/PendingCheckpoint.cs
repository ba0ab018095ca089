using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Training;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// A checkpoint begun but not committed. The scheduler state is taken when it is begun, because that is the
/// moment its weights belong to: a background upload may commit after the next epoch's decision.
/// </summary>
[GenerateSerializer, Immutable, Alias("plateau.PendingCheckpoint")]
public sealed record PendingCheckpoint(
    [property: Id(0)] CheckpointRequest Request,
    [property: Id(1)] PlateauSchedulerState Scheduler);
