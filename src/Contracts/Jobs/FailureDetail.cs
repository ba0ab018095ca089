namespace Plateau.Contracts.Jobs;

/// <summary>Something failed: a rank (when known), a checkpoint that was not saved or did not verify.</summary>
[GenerateSerializer, Immutable, Alias("plateau.FailureDetail")]
public sealed record FailureDetail(
    [property: Id(0)] int? Rank,
    [property: Id(1)] string? CheckpointId,
    [property: Id(2)] string Reason) : JobEventDetail;
