namespace Plateau.Contracts.Workers;

/// <summary>The coordinator's word that the plan of <paramref name="Epoch"/> is ready (or that training is over):
/// ranks waiting at the epoch boundary ask for it now instead of at their next recheck.</summary>
[GenerateSerializer, Immutable, Alias("plateau.EpochReadyNotice")]
public sealed record EpochReadyNotice([property: Id(0)] string JobId, [property: Id(1)] long Generation, [property: Id(2)] int Epoch);
