namespace Plateau.Collective;

/// <summary>
/// What one rank's trainer asks of the data plane: all-reduce of flat float buffers, broadcast from a
/// root rank, and all-gather of small blocks, in rank terms (<see cref="Rank"/> of <see cref="WorldSize"/>).
/// Operations must be called in the same order on every rank. Two implementations: the flat ring, where
/// every rank is a ring member (<see cref="CollectiveGroup"/>), and one device of a worker whose devices
/// reduce locally first and share one ring member per worker (<see cref="LocalDeviceGroup"/>'s
/// <see cref="DeviceCollective"/>). A failure surfaces as <see cref="CollectiveException"/> naming a rank
/// of this numbering.
/// </summary>
public interface ICollective
{
    /// <summary>This participant's rank, 0 ≤ Rank &lt; WorldSize.</summary>
    int Rank { get; }

    /// <summary>Participants whose buffers are reduced together.</summary>
    int WorldSize { get; }

    /// <summary>In place; every rank ends with the same bits.</summary>
    Task AllReduceAsync(Memory<float> buffer, ReduceOp op, CancellationToken cancellationToken);

    /// <summary>Copies rank <paramref name="root"/>'s buffer into every rank's buffer (exact fp32).</summary>
    Task BroadcastAsync(Memory<float> buffer, int root, CancellationToken cancellationToken);

    /// <summary>Every rank's small block; result[r] is rank r's.</summary>
    Task<byte[][]> AllGatherAsync(ReadOnlyMemory<byte> block, CancellationToken cancellationToken);
}
