namespace Plateau.Contracts.Jobs;

/// <summary>The group's progress aggregated from the latest report of every rank.</summary>
[GenerateSerializer, Immutable, Alias("plateau.JobProgress")]
public sealed record JobProgress
{
    [Id(0)] public int Epoch { get; init; }
    [Id(1)] public long GlobalStep { get; init; }
    /// <summary>Steps in the current epoch, 0 when not known yet.</summary>
    [Id(2)] public long StepsInEpoch { get; init; }
    /// <summary>Sum over ranks.</summary>
    [Id(3)] public double ImagesPerSecond { get; init; }
    /// <summary>Mean over ranks of each rank's recent training loss.</summary>
    [Id(4)] public double Loss { get; init; }
    [Id(5)] public double DataWaitShare { get; init; }
    [Id(6)] public double AllReduceShare { get; init; }
    [Id(7)] public double LearningRate { get; init; }
    [Id(8)] public DateTimeOffset At { get; init; }
}
