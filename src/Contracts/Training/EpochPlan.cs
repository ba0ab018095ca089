namespace Plateau.Contracts.Training;

/// <summary>
/// What every rank does in one epoch (epochs count from 0). The sample order is a pure function of
/// (<see cref="Seed"/>, <see cref="Epoch"/>); step s (from <see cref="StartGlobalStep"/>) takes positions
/// <c>Cursor + (s − StartGlobalStep) × GlobalBatch</c> onward of that order, and rank r its
/// <c>[r × PerRankBatch, (r + 1) × PerRankBatch)</c> share of them (of a partial last batch, trained when
/// spec.batch.dropLast is false, the first b mod w ranks take ⌈b/w⌉ and the rest ⌊b/w⌋). The rate at each step comes from
/// <see cref="LearningRateAt"/>; workers never decide it.
/// </summary>
[GenerateSerializer, Immutable, Alias("plateau.EpochPlan")]
public sealed record EpochPlan
{
    [Id(0)] public long Generation { get; init; }
    [Id(1)] public int Epoch { get; init; }
    [Id(2)] public int TotalEpochs { get; init; }
    /// <summary>Steps in an epoch from cursor 0 (<see cref="EpochSteps.From"/>: the last partial batch dropped or trained as spec.batch.dropLast says).</summary>
    [Id(3)] public long StepsInEpoch { get; init; }
    /// <summary>The global step this plan starts at (mid-epoch when resuming).</summary>
    [Id(4)] public long StartGlobalStep { get; init; }
    /// <summary>Exclusive end; before the epoch's last step when an iteration budget ends the job.</summary>
    [Id(5)] public long EndGlobalStep { get; init; }
    /// <summary>Samples of this epoch's order already consumed before <see cref="StartGlobalStep"/>.</summary>
    [Id(6)] public long Cursor { get; init; }
    [Id(7)] public int GlobalBatch { get; init; }
    [Id(8)] public int PerRankBatch { get; init; }
    [Id(9)] public int WorldSize { get; init; }
    [Id(10)] public long Seed { get; init; }
    /// <summary>Run the exact distributed validation after the epoch's last step and report it.</summary>
    [Id(11)] public bool Evaluate { get; init; }
    /// <summary>Rank 0 checkpoints after the epoch (and after evaluation).</summary>
    [Id(12)] public bool Checkpoint { get; init; }
    /// <summary>Piecewise-linear rate over global steps, ordered and covering [StartGlobalStep, EndGlobalStep).</summary>
    [Id(13)] public IReadOnlyList<LrSegment> LrSegments { get; init; } = [];
    [Id(14)] public double Momentum { get; init; }
    [Id(15)] public double WeightDecay { get; init; }
    [Id(16)] public bool Nesterov { get; init; }
    /// <summary>W3C traceparent of the coordinator's span for this epoch: every rank's epoch span joins its trace.</summary>
    [Id(17)] public string? TraceParent { get; init; }

    /// <summary>The learning rate for a global step of this plan.</summary>
    public double LearningRateAt(long globalStep)
    {
        if (LrSegments.Count == 0)
        {
            throw new InvalidOperationException($"epoch plan {Epoch} has no learning-rate segments");
        }

        foreach (var segment in LrSegments)
        {
            if (globalStep < segment.EndStep)
            {
                return segment.At(globalStep);
            }
        }

        return LrSegments[^1].At(globalStep);
    }
}
