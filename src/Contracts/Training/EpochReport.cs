namespace Plateau.Contracts.Training;

/// <summary>One rank's end-of-epoch report. <see cref="Eval"/> is required when the plan said Evaluate.</summary>
[GenerateSerializer, Immutable, Alias("plateau.EpochReport")]
public sealed record EpochReport
{
    [Id(0)] public long Generation { get; init; }
    [Id(1)] public int Rank { get; init; }
    [Id(2)] public int Epoch { get; init; }
    /// <summary>The global step after the epoch's last step.</summary>
    [Id(3)] public long GlobalStep { get; init; }
    [Id(4)] public required TrainCounts Train { get; init; }
    [Id(5)] public EvalCounts? Eval { get; init; }
    /// <summary>Wall time of this rank's training steps in the epoch (evaluation not included); 0 when not measured.</summary>
    [Id(6)] public double TrainSeconds { get; init; }
}
