namespace Plateau.Collective;

/// <summary>
/// All-reduce for workers that drive several devices: the worker's device buffers are first summed
/// in-process (fixed device order, so deterministic), the sum is ring-all-reduced across workers
/// (one ring member per worker, not per device), and the result is copied back to every device.
/// CPU "devices" (plain buffers) exercise exactly the same path as GPUs whose gradients were staged
/// to host memory. Every worker must drive the same number of devices (checked at creation).
/// </summary>
public sealed class HierarchicalGroup
{
    /// <summary>Elements per parallel slice of the local reduction.</summary>
    private const int LocalSliceElements = 1 << 16;

    private HierarchicalGroup(CollectiveGroup? workers, int localDevices)
    {
        Workers = workers;
        LocalDevices = localDevices;
        TotalDevices = localDevices * (workers?.WorldSize ?? 1);
    }

    /// <summary>The ring across workers (null: a single worker).</summary>
    public CollectiveGroup? Workers { get; }

    public int LocalDevices { get; }

    public int TotalDevices { get; }

    /// <summary>Checks that every worker drives <paramref name="localDevices"/> devices.</summary>
    public static async Task<HierarchicalGroup> CreateAsync(CollectiveGroup? workers, int localDevices, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(localDevices);
        if (workers is not null && workers.WorldSize > 1)
        {
            var counts = await workers.AllGatherAsync(BitConverter.GetBytes(localDevices), cancellationToken);
            for (var rank = 0; rank < counts.Length; rank++)
            {
                var count = BitConverter.ToInt32(counts[rank]);
                if (count != localDevices)
                {
                    throw new CollectiveException($"worker rank {rank} drives {count} devices but rank {workers.Rank} drives {localDevices}; hierarchical all-reduce needs the same device count on every worker", rank, null);
                }
            }
        }
        return new HierarchicalGroup(workers, localDevices);
    }

    /// <summary>In-place all-reduce over all devices of all workers; every buffer ends bit-identical.</summary>
    public async Task AllReduceAsync(IReadOnlyList<Memory<float>> deviceBuffers, ReduceOp op = ReduceOp.Sum, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deviceBuffers);
        if (deviceBuffers.Count != LocalDevices)
        {
            throw new ArgumentException($"expected {LocalDevices} device buffers, got {deviceBuffers.Count}", nameof(deviceBuffers));
        }
        var length = deviceBuffers[0].Length;
        for (var d = 1; d < deviceBuffers.Count; d++)
        {
            if (deviceBuffers[d].Length != length)
            {
                throw new ArgumentException($"device {d}'s buffer has {deviceBuffers[d].Length} elements, device 0's {length}", nameof(deviceBuffers));
            }
        }
        var root = deviceBuffers[0];
        ForEachSlice(length, (start, count) =>
        {
            var sum = root.Span.Slice(start, count);
            for (var d = 1; d < deviceBuffers.Count; d++)
            {
                Transport.ElementCodec.AddInPlace(sum, deviceBuffers[d].Span.Slice(start, count));
            }
        });
        if (Workers is not null)
        {
            await Workers.AllReduceAsync(root, ReduceOp.Sum, cancellationToken);
        }
        var divisor = (float)TotalDevices;
        ForEachSlice(length, (start, count) =>
        {
            var result = root.Span.Slice(start, count);
            if (op == ReduceOp.Average)
            {
                for (var i = 0; i < result.Length; i++)
                {
                    result[i] /= divisor;
                }
            }
            for (var d = 1; d < deviceBuffers.Count; d++)
            {
                result.CopyTo(deviceBuffers[d].Span.Slice(start, count));
            }
        });
    }

    /// <summary>Copies device <paramref name="rootDevice"/> of worker <paramref name="rootWorker"/> to every device of every worker
    /// (exact fp32: the ring's broadcast, then local copies).</summary>
    public async Task BroadcastAsync(IReadOnlyList<Memory<float>> deviceBuffers, int rootWorker = 0, int rootDevice = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deviceBuffers);
        ArgumentOutOfRangeException.ThrowIfNegative(rootDevice);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rootDevice, deviceBuffers.Count);
        // Every worker moves the same local index through the ring; only the root worker's copy is read.
        var source = deviceBuffers[rootDevice];
        if (Workers is not null)
        {
            await Workers.BroadcastAsync(source, rootWorker, cancellationToken);
        }
        for (var d = 0; d < deviceBuffers.Count; d++)
        {
            if (d != rootDevice)
            {
                source.CopyTo(deviceBuffers[d]);
            }
        }
    }

    /// <summary>
    /// Gathers every device's small block from every worker: the worker's blocks travel the ring as one
    /// (length-prefixed, device order). result[w × LocalDevices + d] is worker w's device d's block.
    /// </summary>
    public async Task<byte[][]> AllGatherAsync(IReadOnlyList<ReadOnlyMemory<byte>> deviceBlocks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deviceBlocks);
        if (deviceBlocks.Count != LocalDevices)
        {
            throw new ArgumentException($"expected {LocalDevices} device blocks, got {deviceBlocks.Count}", nameof(deviceBlocks));
        }
        if (Workers is null || Workers.WorldSize == 1)
        {
            return [.. deviceBlocks.Select(b => b.ToArray())];
        }
        var packed = new byte[deviceBlocks.Sum(b => sizeof(int) + b.Length)];
        var offset = 0;
        foreach (var block in deviceBlocks)
        {
            BitConverter.TryWriteBytes(packed.AsSpan(offset), block.Length);
            block.Span.CopyTo(packed.AsSpan(offset + sizeof(int)));
            offset += sizeof(int) + block.Length;
        }
        var workers = await Workers.AllGatherAsync(packed, cancellationToken);
        var result = new byte[TotalDevices][];
        for (var w = 0; w < workers.Length; w++)
        {
            var from = workers[w];
            offset = 0;
            for (var d = 0; d < LocalDevices; d++)
            {
                var length = offset + sizeof(int) <= from.Length ? BitConverter.ToInt32(from, offset) : -1;
                if (length < 0 || offset + sizeof(int) + length > from.Length)
                {
                    throw new CollectiveException($"worker rank {w} sent a malformed all-gather block ({from.Length} bytes; device {d}'s block does not fit)", w, null);
                }
                result[w * LocalDevices + d] = from.AsSpan(offset + sizeof(int), length).ToArray();
                offset += sizeof(int) + length;
            }
        }
        return result;
    }

    private static void ForEachSlice(int length, Action<int, int> body)
    {
        var slices = (length + LocalSliceElements - 1) / LocalSliceElements;
        Parallel.For(0, slices, slice =>
        {
            var start = slice * LocalSliceElements;
            body(start, Math.Min(LocalSliceElements, length - start));
        });
    }
}
