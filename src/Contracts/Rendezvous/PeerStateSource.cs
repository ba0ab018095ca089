namespace Plateau.Contracts.Rendezvous;

/// <summary>
/// A generation starts from a survivor's in-memory state instead of a checkpoint: the device at
/// <see cref="SourceRank"/> (in the new generation) loads what it kept and broadcasts it to every rank.
/// </summary>
[GenerateSerializer, Immutable, Alias("plateau.PeerStateSource")]
public sealed record PeerStateSource
{
    [Id(0)] public int SourceRank { get; init; }
    [Id(1)] public required RetainedState State { get; init; }
}
