namespace Plateau.Contracts.Workers;

[GenerateSerializer, Immutable, Alias("plateau.PauseRequest")]
public sealed record PauseRequest([property: Id(0)] string JobId, [property: Id(1)] long Generation, [property: Id(2)] string Reason);
