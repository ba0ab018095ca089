namespace Plateau.Collective.Tests.Ring;

public abstract class AllReduceTests : RingTestBase
{
    private const int OneMiBFloats = (1 << 20) / sizeof(float);

    public static TheoryData<int, int> SmallCases()
    {
        var data = new TheoryData<int, int>();
        foreach (var world in new[] { 1, 2, 3, 4, 5, 6 })
        {
            foreach (var length in new[] { 0, 1, 7, OneMiBFloats + 3 })
            {
                data.Add(world, length);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SmallCases))]
    public async Task SumAndAverageMatchASequentialReferenceAndAreBitIdenticalOnEveryRank(int worldSize, int length)
    {
        await using var ring = await StartRingAsync(worldSize, o => o.ChunkBytes = 64 << 10);
        foreach (var op in new[] { ReduceOp.Sum, ReduceOp.Average })
        {
            var inputs = RankInputs(worldSize, length, seed: length + (int)op);
            var buffers = inputs.Select(i => (float[])i.Clone()).ToArray();
            await ring.AllAsync((g, rank) => g.AllReduceAsync(buffers[rank], op));
            AssertMatchesReference(inputs, buffers, op, tolerance: 1e-5f);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public async Task OneHundredMiBReducesCorrectly(int worldSize)
    {
        const int length = 100 * OneMiBFloats;
        await using var ring = await StartRingAsync(worldSize);
        var buffers = Enumerable.Range(0, worldSize).Select(rank =>
        {
            var b = new float[length];
            for (var i = 0; i < length; i++)
            {
                b[i] = (i % 1000) * 0.001f + rank;
            }
            return b;
        }).ToArray();
        await ring.AllAsync((g, rank) => g.AllReduceAsync(buffers[rank], ReduceOp.Average));
        var rankMean = (worldSize - 1) / 2f;
        for (var i = 0; i < length; i += 9973)
        {
            Assert.Equal((i % 1000) * 0.001f + rankMean, buffers[0][i], 1e-4f);
        }
        for (var rank = 1; rank < worldSize; rank++)
        {
            Assert.True(buffers[0].AsSpan().SequenceEqual(buffers[rank]), $"rank {rank} differs from rank 0");
        }
    }

    [Fact]
    public async Task SeveralStreamsPerPeerGiveTheSameBitsAsOne()
    {
        const int worldSize = 3;
        const int length = 3 * OneMiBFloats + 11;
        var inputs = RankInputs(worldSize, length, seed: 5);
        var single = inputs.Select(i => (float[])i.Clone()).ToArray();
        var multi = inputs.Select(i => (float[])i.Clone()).ToArray();
        await using (var ring = await StartRingAsync(worldSize, o => o.ChunkBytes = 128 << 10))
        {
            await ring.AllAsync((g, rank) => g.AllReduceAsync(single[rank]));
        }
        await using (var ring = await StartRingAsync(worldSize, o => { o.ChunkBytes = 128 << 10; o.StreamsPerPeer = 3; }))
        {
            await ring.AllAsync((g, rank) => g.AllReduceAsync(multi[rank]));
        }
        for (var rank = 0; rank < worldSize; rank++)
        {
            Assert.True(single[rank].AsSpan().SequenceEqual(multi[rank]));
        }
        AssertMatchesReference(inputs, multi, ReduceOp.Sum, 1e-5f);
    }

    [Fact]
    public async Task ConsecutiveOperationsReuseTheStreams()
    {
        await using var ring = await StartRingAsync(3);
        for (var round = 0; round < 20; round++)
        {
            var buffers = Enumerable.Range(0, 3).Select(rank => Enumerable.Repeat((float)(rank + round), 1000).ToArray()).ToArray();
            await ring.AllAsync((g, rank) => g.AllReduceAsync(buffers[rank]));
            Assert.All(buffers, b => Assert.All(b, v => Assert.Equal(3f * round + 3f, v)));
        }
    }

    internal static float[][] RankInputs(int worldSize, int length, int seed) =>
        [.. Enumerable.Range(0, worldSize).Select(rank =>
        {
            var random = new Random(seed * 31 + rank);
            var b = new float[length];
            for (var i = 0; i < length; i++)
            {
                b[i] = (float)(random.NextDouble() * 2 - 1) * (1 + rank);
            }
            return b;
        })];

    internal static void AssertMatchesReference(float[][] inputs, float[][] outputs, ReduceOp op, float tolerance)
    {
        var worldSize = inputs.Length;
        var length = inputs[0].Length;
        for (var i = 0; i < length; i++)
        {
            double sum = 0, magnitude = 0;
            for (var rank = 0; rank < worldSize; rank++)
            {
                sum += inputs[rank][i];
                magnitude += Math.Abs(inputs[rank][i]);
            }
            var expected = op == ReduceOp.Average ? sum / worldSize : sum;
            var scale = op == ReduceOp.Average ? magnitude / worldSize : magnitude;
            var error = Math.Abs(outputs[0][i] - expected);
            if (error > tolerance * Math.Max(1, scale))
            {
                Assert.Fail($"element {i}: {outputs[0][i]} vs reference {expected} ({op}, world {worldSize})");
            }
        }
        for (var rank = 1; rank < worldSize; rank++)
        {
            Assert.True(outputs[0].AsSpan().SequenceEqual(outputs[rank]), $"rank {rank} is not bit-identical to rank 0");
        }
    }

    public sealed class OverGrpc : AllReduceTests
    {
        protected override DataTransport Transport => DataTransport.Grpc;
    }

    public sealed class OverSockets : AllReduceTests
    {
        protected override DataTransport Transport => DataTransport.Socket;
    }
}
