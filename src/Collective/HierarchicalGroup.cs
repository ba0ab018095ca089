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

    /// <summary>Copies device 0 of worker <paramref name="rootWorker"/> to every device of every worker.</summary>
    public async Task BroadcastAsync(IReadOnlyList<Memory<float>> deviceBuffers, int rootWorker = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deviceBuffers);
        if (Workers is not null)
        {
            await Workers.BroadcastAsync(deviceBuffers[0], rootWorker, cancellationToken);
        }
        for (var d = 1; d < deviceBuffers.Count; d++)
        {
            deviceBuffers[0].CopyTo(deviceBuffers[d]);
        }
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
