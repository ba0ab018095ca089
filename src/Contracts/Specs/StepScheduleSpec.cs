namespace Plateau.Contracts.Specs;

/// <summary>MultiStepLR: multiply by <see cref="Gamma"/> at each milestone (CIFAR recipe: 32k and 48k iterations).</summary>
[GenerateSerializer, Immutable, Alias("plateau.v1.StepScheduleSpec")]
public sealed record StepScheduleSpec
{
    [Id(0)] public IReadOnlyList<long> Milestones { get; init; } = [];

    [Id(1)] public double Gamma { get; init; } = 0.1;

    [Id(2)] public ScheduleUnit Unit { get; init; } = ScheduleUnit.Epochs;
}
