namespace Plateau.Contracts.Workers;

/// <summary>Stop the trainer of <see cref="Generation"/>. <see cref="Rejoin"/>: the group re-forms
/// (generation <see cref="Generation"/> + 1 or later); register again with the job.</summary>
[GenerateSerializer, Immutable, Alias("plateau.StopRequest")]
public sealed record StopRequest(
    [property: Id(0)] string JobId,
    [property: Id(1)] long Generation,
    [property: Id(2)] string Reason,
    [property: Id(3)] bool Rejoin);
