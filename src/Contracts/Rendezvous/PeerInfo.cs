namespace Plateau.Contracts.Rendezvous;

[GenerateSerializer, Immutable, Alias("plateau.PeerInfo")]
public sealed record PeerInfo(
    [property: Id(0)] int Rank,
    [property: Id(1)] string WorkerId,
    [property: Id(2)] string DeviceId,
    [property: Id(3)] string Host,
    /// <summary>The worker's data-plane address; ranks on one worker share it.</summary>
    [property: Id(4)] string Address,
    [property: Id(5)] int LocalRank);
