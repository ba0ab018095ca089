namespace Plateau.Contracts.Jobs;

/// <summary>Something the operator should see that does not stop the job. <see cref="Rank"/> names the rank it is
/// about, when it is about one; <see cref="Value"/> is the number of steps skipped (NonFiniteSteps) or how many
/// times slower than the other ranks' median the rank is (Straggler).</summary>
[GenerateSerializer, Immutable, Alias("plateau.WarningDetail")]
public sealed record WarningDetail(
    [property: Id(0)] WarningKind Kind,
    [property: Id(1)] int? Rank,
    [property: Id(2)] long GlobalStep,
    [property: Id(3)] double Value) : JobEventDetail;
