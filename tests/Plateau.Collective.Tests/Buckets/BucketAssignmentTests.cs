using Plateau.Collective.Buckets;

namespace Plateau.Collective.Tests.Buckets;

public sealed class BucketAssignmentTests
{
    private const long MiB = 1024 * 1024;
    private const long FloatsPerMiB = MiB / sizeof(float);

    private static ParameterSpec P(string name, long elements, bool requiresGrad = true) => new(name, [elements], requiresGrad);

    [Fact]
    public void BucketsFollowReverseRegistrationOrderWithASmallFirstBucket()
    {
        // Registration order a..e; backward produces e first.
        ParameterSpec[] parameters = [P("a", 10 * FloatsPerMiB), P("b", 10 * FloatsPerMiB), P("c", 10 * FloatsPerMiB), P("d", FloatsPerMiB / 2), P("e", FloatsPerMiB / 2)];
        var buckets = BucketAssignment.Assign(parameters);

        // e + d reach the 1 MiB first cap exactly; c, b stay under 25 MiB (20 MiB) and a closes it at 30.
        Assert.Equal(2, buckets.Count);
        Assert.Equal([4, 3], buckets[0].Entries.Select(e => e.ParameterIndex));
        Assert.Equal([2, 1, 0], buckets[1].Entries.Select(e => e.ParameterIndex));
        Assert.Equal(FloatsPerMiB, buckets[0].ElementCount);
        Assert.Equal(0, buckets[0].Entries[0].Offset);
        Assert.Equal(FloatsPerMiB / 2, buckets[0].Entries[1].Offset);
    }

    [Fact]
    public void ABucketClosesOnceItReachesTheCap()
    {
        // 30 MiB worth of 1 MiB parameters after a 1 MiB first bucket: 25 MiB then 4 MiB.
        var parameters = Enumerable.Range(0, 30).Select(i => P($"p{i}", FloatsPerMiB)).ToArray();
        var buckets = BucketAssignment.Assign(parameters);
        Assert.Equal([1 * MiB, 25 * MiB, 4 * MiB], buckets.Select(b => b.Bytes()));
        Assert.Equal(Enumerable.Range(0, 30).Reverse(), buckets.SelectMany(b => b.Entries).Select(e => e.ParameterIndex));
        Assert.Equal([0, 1, 2], buckets.Select(b => b.Index));
    }

    [Fact]
    public void AParameterLargerThanTheCapGetsABucketOfItsOwn()
    {
        ParameterSpec[] parameters = [P("small", 10), P("huge", 40 * FloatsPerMiB), P("tail", 10)];
        var buckets = BucketAssignment.Assign(parameters, bucketCapBytes: 25 * MiB, firstBucketCapBytes: 1 * MiB);
        Assert.Equal(2, buckets.Count);
        Assert.Equal([2, 1], buckets[0].Entries.Select(e => e.ParameterIndex));
        Assert.Equal([0], buckets[1].Entries.Select(e => e.ParameterIndex));
    }

    [Fact]
    public void FrozenParametersGetNoBucketSpace()
    {
        ParameterSpec[] parameters = [P("a", 100), P("frozen", 1000, requiresGrad: false), P("c", 100)];
        var buckets = BucketAssignment.Assign(parameters);
        Assert.Single(buckets);
        Assert.Equal([2, 0], buckets[0].Entries.Select(e => e.ParameterIndex));
        Assert.Equal(200, buckets[0].ElementCount);
    }

    [Fact]
    public void AssignmentIsAPureFunctionOfTheParameterList()
    {
        var parameters = Enumerable.Range(0, 50).Select(i => P($"p{i}", (i * 7919 % 997) * 1000 + 1)).ToArray();
        var first = BucketAssignment.Assign(parameters, 2 * MiB, 512 * 1024);
        var second = BucketAssignment.Assign(parameters.ToArray(), 2 * MiB, 512 * 1024);
        Assert.Equal(first.Count, second.Count);
        for (var b = 0; b < first.Count; b++)
        {
            Assert.Equal(first[b].Entries, second[b].Entries);
        }
        Assert.Equal(parameters.Sum(p => p.ElementCount), first.Sum(b => b.ElementCount));
    }

    [Fact]
    public void DefaultsAreDdpsCaps()
    {
        Assert.Equal(25 * MiB, BucketAssignment.DefaultBucketCapBytes);
        Assert.Equal(1 * MiB, BucketAssignment.DefaultFirstBucketCapBytes);
    }
}
