namespace Plateau.Collective.Tests.Ring;

public abstract class CompressionTests : RingTestBase
{
    [Theory]
    [InlineData(WireCompression.BFloat16, 8)]
    [InlineData(WireCompression.Float16, 11)]
    public async Task CompressedAllReduceStaysWithinTheFormatsErrorBoundAndBitIdentical(WireCompression compression, int significantBits)
    {
        const int worldSize = 4;
        const int length = 300_001;
        var inputs = AllReduceTests.RankInputs(worldSize, length, seed: 21);
        var outputs = inputs.Select(i => (float[])i.Clone()).ToArray();
        await using var ring = await StartRingAsync(worldSize, o => { o.Compression = compression; o.ChunkBytes = 64 << 10; });
        await ring.AllAsync((g, rank) => g.AllReduceAsync(outputs[rank]));

        // Each of the W-1 hops and the owner's final rounding adds at most half an ulp of the running
        // partial sum (≤ Σ|x|): |error| ≤ W · 2^-bits · Σ|x|.
        var unit = Math.Pow(2, -significantBits);
        double worst = 0;
        for (var i = 0; i < length; i++)
        {
            double exact = 0, magnitude = 0;
            for (var rank = 0; rank < worldSize; rank++)
            {
                exact += inputs[rank][i];
                magnitude += Math.Abs(inputs[rank][i]);
            }
            var error = Math.Abs(outputs[0][i] - exact);
            worst = Math.Max(worst, error / magnitude);
            Assert.True(error <= worldSize * unit * magnitude, $"element {i}: {outputs[0][i]} vs {exact} exceeds the {compression} bound");
        }
        Assert.True(worst > 0, "compression had no effect at all: the wire format was not applied");
        for (var rank = 1; rank < worldSize; rank++)
        {
            Assert.True(outputs[0].AsSpan().SequenceEqual(outputs[rank]), $"rank {rank} is not bit-identical to rank 0");
        }
    }

    [Fact]
    public void BFloat16RoundsToNearestEven()
    {
        // bf16 keeps 7 fraction bits: the ulp at 1 is 1/128; ties go to the even neighbour.
        Assert.Equal(1f, Plateau.Collective.Transport.ElementCodec.FromBFloat16(Plateau.Collective.Transport.ElementCodec.ToBFloat16(1f + 1f / 256)));
        Assert.Equal(1f + 1f / 64, Plateau.Collective.Transport.ElementCodec.FromBFloat16(Plateau.Collective.Transport.ElementCodec.ToBFloat16(1f + 3f / 256)));
        Assert.Equal(1f + 1f / 128, Plateau.Collective.Transport.ElementCodec.FromBFloat16(Plateau.Collective.Transport.ElementCodec.ToBFloat16(1f + 1f / 128 + 1f / 512)));
        Assert.True(float.IsNaN(Plateau.Collective.Transport.ElementCodec.FromBFloat16(Plateau.Collective.Transport.ElementCodec.ToBFloat16(float.NaN))));
    }

    public sealed class OverGrpc : CompressionTests
    {
        protected override DataTransport Transport => DataTransport.Grpc;
    }

    public sealed class OverSockets : CompressionTests
    {
        protected override DataTransport Transport => DataTransport.Socket;
    }
}
