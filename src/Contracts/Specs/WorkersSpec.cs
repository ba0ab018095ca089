namespace Plateau.Contracts.Specs;

/// <summary>How many worker processes form the group, and how long to wait for them.</summary>
[GenerateSerializer, Immutable, Alias("plateau.v1.WorkersSpec")]
public sealed record WorkersSpec
{
    [Id(0)] public int Min { get; init; } = 1;

    [Id(1)] public int Max { get; init; } = 1;

    /// <summary>Ranks contributed by each worker (GPUs, or CPU "devices" in tests).</summary>
    [Id(2)] public int DevicesPerWorker { get; init; } = 1;

    /// <summary>Seconds to wait for <see cref="Min"/> workers before the job fails.</summary>
    [Id(3)] public double RendezvousTimeoutSeconds { get; init; } = 120;

    /// <summary>Evict a rank's worker once it is named a straggler (its own work per step ≥ 2x the other ranks'
    /// median for 3 progress reports): the job re-forms without it, from its last checkpoint, and never admits that
    /// worker again. Only while the rest still meet <see cref="Min"/>; otherwise the straggler is reported only.</summary>
    [Id(4)] public bool EvictStragglers { get; init; }
}
