namespace Plateau.Contracts.Training;

/// <summary>
/// ReduceLROnPlateau's state (PyTorch names in comments), persisted with the job and copied into every
/// checkpoint record so a restore continues the same schedule.
/// </summary>
[GenerateSerializer, Immutable, Alias("plateau.PlateauSchedulerState")]
public sealed record PlateauSchedulerState
{
    /// <summary>best; null before the first step.</summary>
    [Id(0)] public double? Best { get; init; }
    /// <summary>The epoch the best value was seen at.</summary>
    [Id(1)] public int BestEpoch { get; init; }
    /// <summary>num_bad_epochs.</summary>
    [Id(2)] public int NumBadEpochs { get; init; }
    /// <summary>cooldown_counter.</summary>
    [Id(3)] public int CooldownCounter { get; init; }
    /// <summary>The rate the plateau rule currently sets (before warmup), i.e. the optimizer's lr.</summary>
    [Id(4)] public double Lr { get; init; }
    /// <summary>last_epoch: how many evaluations were stepped.</summary>
    [Id(5)] public int Steps { get; init; }
}
