namespace Plateau.Contracts.Specs;

/// <summary>
/// Learning-rate schedule: at most one of <see cref="Plateau"/> and <see cref="Steps"/>, optionally with
/// warmup and the linear scaling rule. Neither means a constant rate.
/// </summary>
[GenerateSerializer, Immutable, Alias("plateau.v1.ScheduleSpec")]
public sealed record ScheduleSpec
{
    [Id(0)] public PlateauScheduleSpec? Plateau { get; init; }

    [Id(1)] public StepScheduleSpec? Steps { get; init; }

    [Id(2)] public WarmupSpec? Warmup { get; init; }

    [Id(3)] public LinearScalingSpec? LinearScaling { get; init; }
}
