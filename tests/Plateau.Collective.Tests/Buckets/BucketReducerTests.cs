using System.Buffers;
using System.Runtime.InteropServices;
using Plateau.Collective.Buckets;

namespace Plateau.Collective.Tests.Buckets;

public abstract class BucketReducerTests : RingTestBase
{
    private static readonly ParameterSpec[] Model =
    [
        new("conv1.weight", [64, 3, 7, 7]),
        new("bn1.weight", [64]),
        new("bn1.bias", [64]),
        new("layer1.0.conv1.weight", [64, 64, 3, 3]),
        new("fc.weight", [10, 64]),
        new("fc.bias", [10]),
    ];

    [Fact]
    public async Task BucketsMarkedReadyOutOfOrderAreAveragedInIndexOrder()
    {
        const int worldSize = 3;
        var buckets = BucketAssignment.Assign(Model, bucketCapBytes: 64 * 1024, firstBucketCapBytes: 1024);
        Assert.Equal(3, buckets.Count);
        await using var ring = await StartRingAsync(worldSize);
        var reducers = ring.Groups.Select(g => new BucketReducer(g, buckets)).ToArray();
        for (var step = 0; step < 2; step++)
        {
            await ring.AllAsync(async (g, rank) =>
            {
                var reducer = reducers[rank];
                foreach (var bucket in buckets.Reverse())
                {
                    reducer.Buffer(bucket.Index).Span.Fill(rank + bucket.Index + step);
                    reducer.MarkReady(bucket.Index);
                }
                await reducer.WaitAllAsync();
            });
            foreach (var reducer in reducers)
            {
                foreach (var bucket in buckets)
                {
                    var expected = 1f + bucket.Index + step; // mean of rank over 0..2 is 1
                    Assert.All(reducer.Buffer(bucket.Index).ToArray(), v => Assert.Equal(expected, v));
                }
            }
        }
    }

    [Fact]
    public async Task WaitingBeforeEveryBucketIsReadySaysWhichAreMissing()
    {
        await using var ring = await StartRingAsync(1);
        var reducer = new BucketReducer(ring.Groups[0], BucketAssignment.Assign(Model, 64 * 1024, 4 * 1024));
        reducer.MarkReady(0);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => reducer.WaitAllAsync());
        Assert.Contains("never marked ready", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BucketsAreReducedInTheCallersOwnMemoryEvenWhenItIsNoManagedArray()
    {
        // Native memory, as a GPU's page-locked staging buffer is: the socket path must pin it, not find an array.
        const int worldSize = 2;
        var buckets = BucketAssignment.Assign(Model, bucketCapBytes: 64 * 1024, firstBucketCapBytes: 1024);
        await using var ring = await StartRingAsync(worldSize);
        var memories = Enumerable.Range(0, worldSize).Select(_ => buckets.Select(b => new NativeFloats((int)b.ElementCount)).ToArray()).ToArray();
        try
        {
            var reducers = ring.Groups.Select((g, rank) => new BucketReducer(g, buckets, [.. memories[rank].Select(m => m.Memory)])).ToArray();
            await ring.AllAsync(async (g, rank) =>
            {
                foreach (var bucket in buckets)
                {
                    memories[rank][bucket.Index].GetSpan().Fill(10 * rank + bucket.Index);
                    reducers[rank].MarkReady(bucket.Index);
                }
                await reducers[rank].WaitAllAsync();
            });
            foreach (var rank in Enumerable.Range(0, worldSize))
            {
                foreach (var bucket in buckets)
                {
                    Assert.True(reducers[rank].Buffer(bucket.Index).Span == memories[rank][bucket.Index].GetSpan(), "the reducer uses a copy");
                    Assert.All(memories[rank][bucket.Index].GetSpan().ToArray(), v => Assert.Equal(5f + bucket.Index, v));
                }
            }
        }
        finally
        {
            foreach (var memory in memories.SelectMany(m => m))
            {
                ((IDisposable)memory).Dispose();
            }
        }
    }

    [Fact]
    public async Task BuffersThatDoNotMatchTheBucketsAreRefused()
    {
        await using var ring = await StartRingAsync(1);
        var buckets = BucketAssignment.Assign(Model, 64 * 1024, 4 * 1024);
        var tooFew = Assert.Throws<ArgumentException>(() => new BucketReducer(ring.Groups[0], buckets, [new float[buckets[0].ElementCount]]));
        Assert.Contains($"1 buffers for {buckets.Count} buckets", tooFew.Message, StringComparison.Ordinal);
        var tooShort = Assert.Throws<ArgumentException>(() => new BucketReducer(ring.Groups[0], buckets, [.. buckets.Select(b => (Memory<float>)new float[b.ElementCount - 1])]));
        Assert.Contains($"bucket 0 holds {buckets[0].ElementCount} elements but its buffer {buckets[0].ElementCount - 1}", tooShort.Message, StringComparison.Ordinal);
    }

    /// <summary>Floats outside the managed heap.</summary>
    private sealed unsafe class NativeFloats(int length) : MemoryManager<float>
    {
        private readonly float* _pointer = (float*)NativeMemory.Alloc((nuint)length, sizeof(float));

        public override Span<float> GetSpan() => new(_pointer, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing) => NativeMemory.Free(_pointer);
    }

    public sealed class OverGrpc : BucketReducerTests
    {
        protected override DataTransport Transport => DataTransport.Grpc;
    }

    public sealed class OverSockets : BucketReducerTests
    {
        protected override DataTransport Transport => DataTransport.Socket;
    }
}
