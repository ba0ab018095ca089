namespace Plateau.Contracts.Rendezvous;

/// <summary>
/// Training state a device still holds in memory after its generation ended (a peer failed, or the job
/// re-formed): the weights, BN statistics and momentum as they were after <see cref="GlobalStep"/>, the
/// last step this rank completed. Every rank of a generation holds identical weights after a completed
/// step, so one survivor's copy can restart the next generation without going back to a checkpoint.
/// </summary>
[GenerateSerializer, Immutable, Alias("plateau.RetainedState")]
public sealed record RetainedState
{
    [Id(0)] public required string JobId { get; init; }
    [Id(1)] public required string DeviceId { get; init; }
    /// <summary>The generation that trained it.</summary>
    [Id(2)] public long Generation { get; init; }
    /// <summary>The device's rank in that generation.</summary>
    [Id(3)] public int Rank { get; init; }
    /// <summary>The epoch being trained (at its end when every step of it is done but the job has not closed it).</summary>
    [Id(4)] public int Epoch { get; init; }
    /// <summary>Samples of the epoch's order already trained.</summary>
    [Id(5)] public long Cursor { get; init; }
    [Id(6)] public long GlobalStep { get; init; }
}
