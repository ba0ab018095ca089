namespace Plateau.Contracts.Jobs;

/// <summary>One rank of the running generation, from its latest progress report (a window of a few seconds of steps).</summary>
[GenerateSerializer, Immutable, Alias("plateau.RankThroughput")]
public sealed record RankThroughput
{
    [Id(0)] public int Rank { get; init; }
    [Id(1)] public required string WorkerId { get; init; }
    [Id(2)] public required string Host { get; init; }
    [Id(3)] public int Epoch { get; init; }
    [Id(4)] public long GlobalStep { get; init; }
    [Id(5)] public double ImagesPerSecond { get; init; }
    /// <summary>Mean seconds per step of the rank's own work (not blocked on the ring).</summary>
    [Id(6)] public double OwnSecondsPerStep { get; init; }
    [Id(7)] public double DataWaitShare { get; init; }
    [Id(8)] public double AllReduceShare { get; init; }
    [Id(9)] public double Loss { get; init; }
    /// <summary><see cref="OwnSecondsPerStep"/> over the other ranks' median (a straggler is at 2 or more); null until known.</summary>
    [Id(10)] public double? StragglerRatio { get; init; }
    [Id(11)] public DateTimeOffset ReportedAt { get; init; }
}
