namespace Plateau.Contracts.Training;

/// <summary>Throttled (every few seconds) progress of one rank; also its liveness signal.</summary>
[GenerateSerializer, Immutable, Alias("plateau.ProgressReport")]
public sealed record ProgressReport
{
    [Id(0)] public long Generation { get; init; }
    [Id(1)] public int Rank { get; init; }
    [Id(2)] public int Epoch { get; init; }
    [Id(3)] public long GlobalStep { get; init; }
    [Id(4)] public double ImagesPerSecond { get; init; }
    /// <summary>Recent mean training loss on this rank.</summary>
    [Id(5)] public double Loss { get; init; }
    /// <summary>Share of step time spent waiting for data, 0..1.</summary>
    [Id(6)] public double DataWaitShare { get; init; }
    /// <summary>Share of step time spent in the gradient all-reduce, 0..1.</summary>
    [Id(7)] public double AllReduceShare { get; init; }
    [Id(8)] public double LearningRate { get; init; }
    /// <summary>Steps this rank skipped in this generation because the averaged gradients were not finite.</summary>
    [Id(9)] public long SkippedSteps { get; init; }
    /// <summary>Mean seconds per step of this rank's own work (not blocked on the ring); a straggler's stands out.</summary>
    [Id(10)] public double OwnSecondsPerStep { get; init; }
}
