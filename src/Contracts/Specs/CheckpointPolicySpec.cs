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

    /// <summary>Also checkpoint inside an epoch after every k global steps (0: only at epoch ends). The checkpoint
    /// carries the epoch's cursor, so a resume continues mid-epoch with no sample repeated or skipped.</summary>
    [Id(3)] public int EverySteps { get; init; }

    /// <summary>Also checkpoint inside an epoch once this many minutes passed since the last checkpoint (or the
    /// start of the generation); 0: off. Either trigger, and the epoch-end checkpoint, restarts the clock.</summary>
    [Id(4)] public double EveryMinutes { get; init; }
}
