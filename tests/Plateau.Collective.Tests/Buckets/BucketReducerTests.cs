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

    public sealed class OverGrpc : BucketReducerTests
    {
        protected override DataTransport Transport => DataTransport.Grpc;
    }

    public sealed class OverSockets : BucketReducerTests
    {
        protected override DataTransport Transport => DataTransport.Socket;
    }
}
