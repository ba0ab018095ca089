namespace Plateau.Contracts.Training;

[GenerateSerializer, Immutable, Alias("plateau.EpochPlanResult")]
public sealed record EpochPlanResult(
    [property: Id(0)] EpochPlanStatus Status,
    [property: Id(1)] EpochPlan? Plan,
    [property: Id(2)] string Message);
