namespace Plateau.Contracts.Specs;

[GenerateSerializer, Immutable, Alias("plateau.v1.CheckpointPolicySpec")]
public sealed record CheckpointPolicySpec
{
    /// <summary>Checkpoint at the end of every k epochs (and at the end of training).</summary>
    [Id(0)] public int EveryEpochs { get; init; } = 1;

    /// <summary>The latest committed checkpoints kept per job; older ones are deleted after a new commit unless
    /// <see cref="KeepBest"/> or a learning-rate drop keeps them.</summary>
    [Id(1)] public int Keep { get; init; } = 3;

    /// <summary>Also keep the best k checkpoints by the plateau metric (val top-1 error without a plateau schedule).
    /// The checkpoint taken right after each learning-rate drop is always kept (pinned).</summary>
    [Id(2)] public int KeepBest { get; init; }
}
