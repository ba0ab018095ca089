namespace Plateau.Contracts.Training;

/// <summary>An epoch's metrics computed from counts summed over all ranks (never averages of averages).</summary>
[GenerateSerializer, Immutable, Alias("plateau.EpochMetrics")]
public sealed record EpochMetrics
{
    [Id(0)] public int Epoch { get; init; }
    [Id(1)] public long GlobalStep { get; init; }
    [Id(2)] public double TrainLoss { get; init; }
    [Id(3)] public double TrainTop1Error { get; init; }
    [Id(4)] public long TrainSamples { get; init; }
    /// <summary>Null on epochs without evaluation.</summary>
    [Id(5)] public double? ValTop1Error { get; init; }
    [Id(6)] public double? ValTop5Error { get; init; }
    [Id(7)] public double? ValLoss { get; init; }
    [Id(8)] public long ValSamples { get; init; }
    /// <summary>The learning rate the epoch trained with (at its last step).</summary>
    [Id(9)] public double LearningRate { get; init; }
    [Id(10)] public DateTimeOffset At { get; init; }
    /// <summary>Each rank's training images/s in the epoch (its samples over its train seconds), by rank; 0 where a rank did not measure.</summary>
    [Id(11)] public PerRankValues RankImagesPerSecond { get; init; } = PerRankValues.Empty;
}
