namespace Plateau.Contracts.Rendezvous;

/// <summary>The answer to a registration.</summary>
[GenerateSerializer, Immutable, Alias("plateau.RendezvousResult")]
public sealed record RendezvousResult
{
    [Id(0)] public RendezvousStatus Status { get; init; }
    /// <summary>The generation being formed (Waiting) or formed (Formed, Standby).</summary>
    [Id(1)] public long Generation { get; init; }
    /// <summary>When the rendezvous fails if too few workers joined.</summary>
    [Id(2)] public DateTimeOffset? Deadline { get; init; }
    [Id(3)] public int JoinedWorkers { get; init; }
    [Id(4)] public int MinWorkers { get; init; }
    [Id(5)] public int MaxWorkers { get; init; }
    [Id(6)] public string Message { get; init; } = "";
}
