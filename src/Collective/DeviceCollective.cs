namespace Plateau.Collective;

/// <summary>
/// One local device's view of a <see cref="LocalDeviceGroup"/>: the trainer's collective calls in device
/// ranks (rank = worker index × devices + local index), each a local barrier with the worker's other
/// devices followed by one hierarchical operation for all of them. Dispose to leave in good order;
/// <see cref="Fail"/> to leave failing every local device with the cause.
/// </summary>
public sealed class DeviceCollective : ICollective, IAsyncDisposable
{
    private readonly LocalDeviceGroup _group;

    internal DeviceCollective(LocalDeviceGroup group, int localIndex)
    {
        _group = group;
        LocalIndex = localIndex;
        Rank = group.RankOf(localIndex);
    }

    public int LocalIndex { get; }

    public int Rank { get; }

    public int WorldSize => _group.WorldSize;

    public LocalDeviceGroup Group => _group;

    public async Task AllReduceAsync(Memory<float> buffer, ReduceOp op, CancellationToken cancellationToken)
    {
        if (!Enum.IsDefined(op))
        {
            throw new ArgumentOutOfRangeException(nameof(op), op, "ReduceOp must be Sum or Average.");
        }
        await _group.RunAsync(LocalIndex, LocalDeviceGroup.OperationKind.AllReduce, buffer.Length, (int)op, buffer, ReadOnlyMemory<byte>.Empty, cancellationToken);
    }

    public async Task BroadcastAsync(Memory<float> buffer, int root, CancellationToken cancellationToken)
    {
        if (root < 0 || root >= WorldSize)
        {
            throw new ArgumentOutOfRangeException(nameof(root), root, $"root must be a rank in [0, {WorldSize}).");
        }
        await _group.RunAsync(LocalIndex, LocalDeviceGroup.OperationKind.Broadcast, buffer.Length, root, buffer, ReadOnlyMemory<byte>.Empty, cancellationToken);
    }

    public async Task<byte[][]> AllGatherAsync(ReadOnlyMemory<byte> block, CancellationToken cancellationToken)
    {
        if (block.Length > CollectiveGroup.MaxAllGatherBlockBytes / _group.LocalDevices)
        {
            throw new ArgumentOutOfRangeException(nameof(block), block.Length, $"all-gather blocks are for small data (≤ {CollectiveGroup.MaxAllGatherBlockBytes / _group.LocalDevices} bytes with {_group.LocalDevices} devices per worker).");
        }
        return (await _group.RunAsync(LocalIndex, LocalDeviceGroup.OperationKind.AllGather, -1, 0, Memory<float>.Empty, block, cancellationToken))!;
    }

    /// <summary>This device failed: every local device's operations fail naming it and <paramref name="cause"/>.</summary>
    public void Fail(Exception cause) => _group.Abandon(LocalIndex, cause);

    public ValueTask DisposeAsync() => _group.LeaveAsync(LocalIndex);
}
