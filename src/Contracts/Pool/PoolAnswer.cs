namespace Plateau.Contracts.Pool;

/// <summary>The pool's answer to a <see cref="PoolOffer"/>.</summary>
[GenerateSerializer, Immutable, Alias("plateau.PoolAnswer")]
public sealed record PoolAnswer
{
    /// <summary>The job to serve (register with its JobGrain); null: none needs this worker now, offer again later.</summary>
    [Id(0)] public string? JobId { get; init; }
    /// <summary>Why, for the worker's log.</summary>
    [Id(1)] public string Message { get; init; } = "";
}
