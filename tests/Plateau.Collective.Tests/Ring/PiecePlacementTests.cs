using System.Buffers;
using Plateau.Collective.Transport;

namespace Plateau.Collective.Tests.Ring;

/// <summary>Over TCP data sockets, an all-reduce's all-gather pieces are received straight into the caller's buffer.</summary>
public sealed class PiecePlacementTests
{
    private const int WorldSize = 3;
    private const int Length = 100_003;
    private const int ChunkBytes = 16 << 10;

    [Fact]
    public async Task EveryAllGatherPieceOfAnExactAllReduceIsReceivedInPlaceAndTheSumIsExact()
    {
        await using var ring = await StartAsync(WireCompression.None);
        var buffers = Inputs();
        var expected = Sum(buffers);

        await ring.AllAsync((g, rank) => g.AllReduceAsync(buffers[rank]));
        await ring.AllAsync((g, rank) => g.AllReduceAsync(Inputs()[rank]));

        Assert.All(buffers, b => Assert.Equal(expected, b));
        // Per all-reduce each rank gathers W − 1 = 2 segments of 33 334 or 33 335 floats, 9 pieces of ≤ 4 096 floats each.
        Assert.All(ring.Groups, g => Assert.Equal(2 * (2 * 9), g.PlacedPieceCount));
    }

    [Fact]
    public async Task ACompressedAllReduceOrABufferThatIsNoManagedArrayTakesThePooledPath()
    {
        await using (var compressed = await StartAsync(WireCompression.BFloat16))
        {
            var buffers = Inputs();
            await compressed.AllAsync((g, rank) => g.AllReduceAsync(buffers[rank]));
            Assert.All(compressed.Groups, g => Assert.Equal(0, g.PlacedPieceCount));
        }

        await using var exact = await StartAsync(WireCompression.None);
        var inputs = Inputs();
        var expected = Sum(inputs);
        var native = inputs.Select(b => new NativeFloats(b)).ToArray();
        try
        {
            await exact.AllAsync((g, rank) => g.AllReduceAsync(native[rank].Memory));
            Assert.All(native, n => Assert.Equal(expected, n.Memory.ToArray()));
            Assert.All(exact.Groups, g => Assert.Equal(0, g.PlacedPieceCount));
        }
        finally
        {
            foreach (var n in native)
            {
                ((IDisposable)n).Dispose();
            }
        }
    }

    private static Task<RingHarness> StartAsync(WireCompression compression) =>
        RingHarness.StartAsync(WorldSize, o => (o.StreamsPerPeer, o.ChunkBytes, o.SharedMemory, o.Compression) = (2, ChunkBytes, false, compression), transport: DataTransport.Socket);

    private static float[][] Inputs() =>
        [.. Enumerable.Range(0, WorldSize).Select(r => Enumerable.Range(0, Length).Select(i => (float)((i * 7 + r * 3) % 64)).ToArray())];

    private static float[] Sum(float[][] buffers) =>
        [.. Enumerable.Range(0, Length).Select(i => buffers.Sum(b => b[i]))];

    /// <summary>Floats behind a memory manager that offers no array, as a pinned host tensor's would be.</summary>
    private sealed class NativeFloats(float[] values) : MemoryManager<float>
    {
        public override Span<float> GetSpan() => values;

        public override MemoryHandle Pin(int elementIndex = 0) => values.AsMemory(elementIndex).Pin();

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
