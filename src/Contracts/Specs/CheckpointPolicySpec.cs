namespace Plateau.Contracts.Specs;

[GenerateSerializer, Immutable, Alias("plateau.v1.CheckpointPolicySpec")]
public sealed record CheckpointPolicySpec
{
    /// <summary>Checkpoint at the end of every k epochs (and at the end of training).</summary>
    [Id(0)] public int EveryEpochs { get; init; } = 1;

    /// <summary>Committed checkpoints kept per job; older ones are deleted after a new commit.</summary>
    [Id(1)] public int Keep { get; init; } = 3;
}
