using Plateau.Contracts.Rendezvous;

namespace Plateau.Contracts.Jobs;

/// <summary>A worker joined (waiting or on standby), or a generation formed with <see cref="Members"/> (by rank).</summary>
[GenerateSerializer, Immutable, Alias("plateau.MembershipDetail")]
public sealed record MembershipDetail(
    [property: Id(0)] long Generation,
    [property: Id(1)] string? WorkerId,
    [property: Id(2)] string? Host,
    [property: Id(3)] bool Standby,
    [property: Id(4)] int JoinedWorkers,
    [property: Id(5)] IReadOnlyList<PeerInfo> Members) : JobEventDetail;
