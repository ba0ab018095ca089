namespace Plateau.Collective.Tests.Ring;

public abstract class HierarchicalTests : RingTestBase
{
    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 3)]
    [InlineData(3, 2)]
    public async Task DevicesOfAllWorkersEndBitIdenticalAndMatchTheReference(int workers, int devicesPerWorker)
    {
        const int length = 200_003;
        await using var ring = await StartRingAsync(workers);
        var inputs = AllReduceTests.RankInputs(workers * devicesPerWorker, length, seed: 17);
        var buffers = inputs.Select(i => (float[])i.Clone()).ToArray();
        await ring.AllAsync(async (g, rank) =>
        {
            var group = await HierarchicalGroup.CreateAsync(g, devicesPerWorker);
            var mine = Enumerable.Range(rank * devicesPerWorker, devicesPerWorker).Select(i => (Memory<float>)buffers[i]).ToArray();
            await group.AllReduceAsync(mine, ReduceOp.Average);
        });
        AllReduceTests.AssertMatchesReference(inputs, buffers, ReduceOp.Average, 1e-5f);
    }

    [Fact]
    public async Task WorkersWithDifferentDeviceCountsAreRefused()
    {
        await using var ring = await StartRingAsync(2);
        var errors = new CollectiveException[2];
        await ring.AllAsync(async (g, rank) =>
            errors[rank] = await Assert.ThrowsAsync<CollectiveException>(() => HierarchicalGroup.CreateAsync(g, rank + 1)));
        Assert.Contains("drives 2 devices", errors[0].Message, StringComparison.Ordinal);
    }

    public sealed class OverGrpc : HierarchicalTests
    {
        protected override DataTransport Transport => DataTransport.Grpc;
    }

    public sealed class OverSockets : HierarchicalTests
    {
        protected override DataTransport Transport => DataTransport.Socket;
    }
}
