namespace Plateau.Collective.Tests.Ring;

public abstract class BroadcastGatherBarrierTests : RingTestBase
{
    [Theory]
    [InlineData(1, 0, 5)]
    [InlineData(2, 1, 0)]
    [InlineData(3, 2, 7)]
    [InlineData(4, 1, (1 << 18) + 3)]
    [InlineData(6, 3, 1000)]
    public async Task BroadcastCopiesTheRootsBufferExactlyToEveryRank(int worldSize, int root, int length)
    {
        await using var ring = await StartRingAsync(worldSize, o => { o.ChunkBytes = 64 << 10; o.StreamsPerPeer = 2; });
        var buffers = AllReduceTests.RankInputs(worldSize, length, seed: 3);
        var expected = (float[])buffers[root].Clone();
        await ring.AllAsync((g, rank) => g.BroadcastAsync(buffers[rank], root));
        Assert.All(buffers, b => Assert.True(b.AsSpan().SequenceEqual(expected)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public async Task AllGatherReturnsEveryRanksBlockInRankOrder(int worldSize)
    {
        await using var ring = await StartRingAsync(worldSize);
        var results = new float[worldSize][][];
        await ring.AllAsync(async (g, rank) =>
            results[rank] = await g.AllGatherAsync(Enumerable.Range(0, rank + 1).Select(i => rank * 10f + i).ToArray().AsMemory()));
        foreach (var gathered in results)
        {
            Assert.Equal(worldSize, gathered.Length);
            for (var rank = 0; rank < worldSize; rank++)
            {
                Assert.Equal(Enumerable.Range(0, rank + 1).Select(i => rank * 10f + i), gathered[rank]);
            }
        }
    }

    [Fact]
    public async Task BarrierWaitsForTheLastRank()
    {
        await using var ring = await StartRingAsync(3);
        var lateEntered = DateTimeOffset.MaxValue;
        var left = new DateTimeOffset[3];
        await ring.AllAsync(async (g, rank) =>
        {
            if (rank == 1)
            {
                await Task.Delay(600);
                lateEntered = DateTimeOffset.UtcNow;
            }
            await g.BarrierAsync();
            left[rank] = DateTimeOffset.UtcNow;
        });
        Assert.All(left, t => Assert.True(t >= lateEntered));
    }

    [Fact]
    public async Task MixedOperationsInTheSameOrderOnEveryRankSucceed()
    {
        await using var ring = await StartRingAsync(4);
        var buffers = AllReduceTests.RankInputs(4, 5000, seed: 9);
        await ring.AllAsync(async (g, rank) =>
        {
            await g.BarrierAsync();
            await g.BroadcastAsync(buffers[rank], root: 2);
            await g.AllReduceAsync(buffers[rank], ReduceOp.Average);
            await g.AllGatherAsync(new byte[] { (byte)rank }.AsMemory());
        });
        Assert.All(buffers, b => Assert.True(b.AsSpan().SequenceEqual(buffers[0])));
    }

    public sealed class OverGrpc : BroadcastGatherBarrierTests
    {
        protected override DataTransport Transport => DataTransport.Grpc;
    }

    public sealed class OverSockets : BroadcastGatherBarrierTests
    {
        protected override DataTransport Transport => DataTransport.Socket;
    }
}
