namespace Plateau.Contracts.Rendezvous;

/// <summary>Sizes of the dataset as a worker sees it; the coordinator derives steps per epoch from it.</summary>
[GenerateSerializer, Immutable, Alias("plateau.DatasetSummary")]
public sealed record DatasetSummary(
    [property: Id(0)] long TrainSamples,
    [property: Id(1)] long ValidationSamples,
    [property: Id(2)] int Classes);
