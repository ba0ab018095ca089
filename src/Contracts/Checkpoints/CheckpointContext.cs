using Plateau.Contracts.Training;

namespace Plateau.Contracts.Checkpoints;

/// <summary>
/// What the job knew when a checkpoint was begun, handed to the writer with its ticket so that the file describes
/// itself without the coordinator's registry: the plateau schedule's state (what a resume continues with) and the
/// metrics of the last epoch finished before it.
/// </summary>
[GenerateSerializer, Immutable, Alias("plateau.CheckpointContext")]
public sealed record CheckpointContext
{
    [Id(0)] public PlateauSchedulerState Scheduler { get; init; } = new();

    /// <summary>Null before the first epoch finished.</summary>
    [Id(1)] public EpochMetrics? LastEpoch { get; init; }
}
