namespace Plateau.Contracts.Workers;

[GenerateSerializer, Immutable, Alias("plateau.ResumeRequest")]
public sealed record ResumeRequest([property: Id(0)] string JobId, [property: Id(1)] long Generation, [property: Id(2)] string Reason);
