using Plateau.Data.Sampling;

namespace Plateau.Data.Tests;

public class DistributedSamplerTests
{
    [Fact]
    public void EpochOrderIsAPermutationThatDependsOnlyOnSeedAndEpoch()
    {
        var a = new DistributedSampler(1000, 64, seed: 7);
        var b = new DistributedSampler(1000, 32, seed: 7);
        Assert.Equal(a.EpochOrder(3), b.EpochOrder(3));
        Assert.Equal(Enumerable.Range(0, 1000), a.EpochOrder(3).Order());
        Assert.NotEqual(a.EpochOrder(3), a.EpochOrder(4));
        Assert.NotEqual(a.EpochOrder(3), new DistributedSampler(1000, 64, seed: 8).EpochOrder(3));
        Assert.NotEqual(Enumerable.Range(0, 1000), a.EpochOrder(3));
    }

    [Fact]
    public void EpochOrderIsStableAcrossVersions()
    {
        // Pinned values: a change in the generator or the shuffle would silently change every job's data plan.
        var order = new DistributedSampler(10, 4, seed: 42).EpochOrder(0);
        Assert.Equal(Golden, string.Join(',', order));
    }

    private const string Golden = "2,5,6,8,1,4,3,7,9,0";

    [Theory]
    [InlineData(1000, 64, 1)]
    [InlineData(1000, 64, 3)]
    [InlineData(1001, 64, 8)]
    [InlineData(10, 4, 7)]
    public void RanksPartitionEveryEpochExactly(int size, int batch, int world)
    {
        var sampler = new DistributedSampler(size, batch, seed: 1);
        var seen = new List<int>();
        var slices = Enumerable.Range(0, world).Select(r => sampler.RankSlice(2, 0, r, world).ToList()).ToList();
        Assert.All(slices, s => Assert.Equal(sampler.BatchesPerEpoch, s.Count));
        for (var step = 0; step < sampler.BatchesPerEpoch; step++)
        {
            var global = slices.SelectMany(s => s[step].Indices).ToList();
            Assert.Equal(slices[0][step].GlobalBatchSize, global.Count);
            Assert.All(slices, s => Assert.True(s[step].Count - slices[^1][step].Count is 0 or 1));
            seen.AddRange(global);
        }
        Assert.Equal(size, seen.Count);
        Assert.Equal(Enumerable.Range(0, size), seen.Order());
        Assert.Equal(sampler.EpochOrder(2), seen);
    }

    [Fact]
    public void ResumeWithFewerWorkersRepeatsNoSample()
    {
        var sampler = new DistributedSampler(997, 50, seed: 3);
        var consumed = new List<int>();
        long cursor = 0;
        // 4 workers do 7 steps, then the job restarts with 3, then with 5 at a cursor mid-epoch.
        foreach (var (world, steps) in new[] { (4, 7), (3, 5), (5, int.MaxValue) })
        {
            var slices = Enumerable.Range(0, world).Select(r => sampler.RankSlice(1, cursor, r, world).Take(steps).ToList()).ToList();
            for (var step = 0; step < slices[0].Count; step++)
            {
                consumed.AddRange(slices.SelectMany(s => s[step].Indices));
                cursor = slices[0][step].CursorAfter;
            }
        }
        Assert.Equal(997, cursor);
        Assert.Equal(consumed.Count, consumed.Distinct().Count());
        Assert.Equal(Enumerable.Range(0, 997), consumed.Order());
    }

    [Fact]
    public void ResumeAtAnUnalignedCursorWithMoreWorkersSkipsNone()
    {
        var sampler = new DistributedSampler(300, 32, seed: 9);
        var order = sampler.EpochOrder(0);
        const int cursor = 77; // not a multiple of the global batch
        var rest = Enumerable.Range(0, 6).SelectMany(r => sampler.RankSlice(0, cursor, r, 6).SelectMany(b => b.Indices)).Order();
        Assert.Equal(order.Skip(cursor).Order(), rest);
        Assert.Equal(sampler.BatchesRemaining(cursor), sampler.RankSlice(0, cursor, 0, 6).Count());
    }

    [Fact]
    public void APartialLastBatchIsSplitWithoutPadding()
    {
        var sampler = new DistributedSampler(10, 8, seed: 0);
        var last = Enumerable.Range(0, 4).Select(r => sampler.RankSlice(0, 8, r, 4).Single()).ToList();
        Assert.Equal([1, 1, 0, 0], last.Select(b => b.Count));
        Assert.All(last, b => Assert.Equal(2, b.GlobalBatchSize));
        Assert.All(last, b => Assert.Equal(10, b.CursorAfter));
    }

    [Fact]
    public void ValidationCountsEverySampleExactlyOnce()
    {
        foreach (var world in new[] { 1, 2, 3, 7, 16 })
        {
            var all = Enumerable.Range(0, world).SelectMany(r => DistributedSampler.ValidationBatches(50_001, 256, r, world).SelectMany(b => b)).ToList();
            Assert.Equal(50_001, all.Count);
            Assert.Equal(Enumerable.Range(0, 50_001), all);
        }
        var tiny = Enumerable.Range(0, 4).Select(r => DistributedSampler.ValidationRange(2, r, 4)).ToList();
        Assert.Equal(2, tiny.Sum(t => t.Hi - t.Lo));
    }

    [Fact]
    public void BadCursorsAndRanksAreRejectedWithTheirNames()
    {
        var sampler = new DistributedSampler(10, 4, seed: 0);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => sampler.RankSlice(0, 11, 0, 1).ToList());
        Assert.Equal("cursor", e.ParamName);
        Assert.Equal("rank", Assert.Throws<ArgumentOutOfRangeException>(() => sampler.RankSlice(0, 0, 2, 2)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedSampler(0, 4, 0));
    }
}
