using Plateau.Data.Datasets;
using Plateau.Data.Decoding;
using Plateau.Data.Loading;
using Plateau.Data.Sampling;
using Plateau.Data.Synthetic;
using Plateau.Data.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Data.Tests;

public class DataLoaderTests
{
    private static async Task<List<(int[] Indices, byte[] Images, long[] Labels)>> Collect(DataLoader loader, IAsyncEnumerable<Batch> batches)
    {
        _ = loader;
        var result = new List<(int[], byte[], long[])>();
        await foreach (var b in batches)
        {
            result.Add((b.Indices, b.Images.contiguous().bytes.ToArray(), b.Labels.data<long>().ToArray()));
        }
        return result;
    }

    [Fact]
    public async Task CifarBatchesArriveAsUint8TensorsWithMatchingLabels()
    {
        using var dir = new TempDirectory();
        SyntheticDatasetWriter.WriteCifar(dir.Path, 100, 10, seed: 1);
        using var ds = CifarBinaryDataset.Open(dir.Path, DatasetSplit.Train, 0);
        await using var loader = new DataLoader(ds, StandardTransforms.CifarEval(), 16, seed: 0, new DataLoaderOptions { DecodeThreads = 2, Normalisation = Normalisation.Cifar10 });
        var sampler = new DistributedSampler(ds.Count, 32, seed: 3);
        var count = 0;
        long lastCursor = 0;
        await foreach (var batch in loader.ReadEpoch(sampler, 0, 0, rank: 1, worldSize: 2))
        {
            Assert.Equal(ScalarType.Byte, batch.Images.dtype);
            Assert.Equal(new long[] { batch.Count, 3, 32, 32 }, batch.Images.shape);
            Assert.Equal(batch.Plan!.Indices, batch.Indices);
            Assert.Equal(batch.Indices.Select(i => (long)ds.GetLabel(i)), batch.Labels.data<long>().ToArray());
            // Identity transform: channel planes equal the stored HWC pixels.
            var raw = ds.ReadSample(batch.Indices[0], new SampleBuffer()).Bytes.ToArray();
            var image = batch.Images[0].contiguous().bytes.ToArray();
            Assert.Equal(raw[0], image[0]);
            Assert.Equal(raw[1], image[1024]);
            Assert.Equal(raw[(5 * 3) + 2], image[2048 + 5]);
            count += batch.Count;
            lastCursor = batch.Plan.CursorAfter;
        }
        Assert.Equal(50, count);
        Assert.Equal(100, lastCursor);
    }

    [Fact]
    public async Task DeviceNormalisationMatchesCpuNormalisation()
    {
        using var dir = new TempDirectory();
        SyntheticDatasetWriter.WriteImageFolder(dir.Path, 2, 0, 64, seed: 1, numClasses: 3);
        using var ds = ImageNetDataset.Open(dir.Path, DatasetSplit.Train);
        var transform = new ScaleAugmentTransform(40, 60, 32, lightingStd: 0.1);
        int[][] plan = [[0, 1, 2, 3, 4, 5]];
        await using var bytesLoader = new DataLoader(ds, transform, 6, seed: 4, new DataLoaderOptions { DecodeThreads = 1 });
        await using var floatLoader = new DataLoader(ds, transform, 6, seed: 4, new DataLoaderOptions { DecodeThreads = 1, Output = LoaderOutput.Normalised });
        Tensor? fromBytes = null;
        await foreach (var b in bytesLoader.ReadBatches(0, plan))
        {
            Assert.NotNull(b.LightingOffsets);
            Assert.True(b.LightingOffsets!.abs().sum().item<float>() > 0);
            fromBytes = b.ToDeviceNormalised(CPU, Normalisation.ImageNet);
        }
        await foreach (var b in floatLoader.ReadBatches(0, plan))
        {
            Assert.Equal(ScalarType.Float32, b.Images.dtype);
            Assert.True(b.Images.allclose(fromBytes!, rtol: 1e-4, atol: 1e-4));
        }
    }

    [Fact]
    public async Task AugmentationIsIdenticalWhateverTheThreadCount()
    {
        using var dir = new TempDirectory();
        SyntheticDatasetWriter.WriteImageFolder(dir.Path, 6, 0, 72, seed: 2, numClasses: 4);
        using var ds = ImageNetDataset.Open(dir.Path, DatasetSplit.Train);
        var sampler = new DistributedSampler(ds.Count, 8, seed: 11);
        async Task<List<(int[] Indices, byte[] Images, long[] Labels)>> Run(int threads, int epoch, ISampleTransform t)
        {
            await using var loader = new DataLoader(ds, t, 8, seed: 5, new DataLoaderOptions { DecodeThreads = threads, MaxPrefetchBatches = 3 });
            return await Collect(loader, loader.ReadEpoch(sampler, epoch, 0, 0, 1));
        }
        foreach (var t in new ISampleTransform[] { new ScaleAugmentTransform(48, 96, 40), new RandomResizedCropTransform(40) })
        {
            var one = await Run(1, 0, t);
            var three = await Run(3, 0, t);
            Assert.Equal(one.Count, three.Count);
            for (var i = 0; i < one.Count; i++)
            {
                Assert.Equal(one[i].Indices, three[i].Indices);
                Assert.Equal(one[i].Images, three[i].Images);
                Assert.Equal(one[i].Labels, three[i].Labels);
            }
            var nextEpoch = await Run(2, 1, t);
            Assert.NotEqual(one[0].Indices, nextEpoch[0].Indices);
        }
    }

    [Fact]
    public async Task TheSameSampleGetsTheSameCropInAnyBatchOrRank()
    {
        using var dir = new TempDirectory();
        SyntheticDatasetWriter.WriteImageFolder(dir.Path, 4, 0, 64, seed: 3, numClasses: 2);
        using var ds = ImageNetDataset.Open(dir.Path, DatasetSplit.Train);
        var t = new ScaleAugmentTransform(40, 80, 32);
        await using var loader = new DataLoader(ds, t, 8, seed: 9, new DataLoaderOptions { DecodeThreads = 2 });
        var a = await Collect(loader, loader.ReadBatches(3, [[5, 1, 7]]));
        var b = await Collect(loader, loader.ReadBatches(3, [[7], [2, 5]]));
        var size = 3 * 32 * 32;
        Assert.Equal(a[0].Images.AsSpan(2 * size, size).ToArray(), b[0].Images);
        Assert.Equal(a[0].Images.AsSpan(0, size).ToArray(), b[1].Images.AsSpan(size, size).ToArray());
    }

    private static void WriteBadFiles(string classDir)
    {
        var good = Directory.GetFiles(classDir)[0];
        var bytes = File.ReadAllBytes(good);
        File.WriteAllBytes(Path.Combine(classDir, "zz_truncated.JPEG"), bytes[..(bytes.Length / 2)]);
        File.WriteAllBytes(Path.Combine(classDir, "zz_garbage.JPEG"), [.. Enumerable.Range(0, 500).Select(i => (byte)(i * 7))]);
        File.WriteAllBytes(Path.Combine(classDir, "zz_empty.JPEG"), []);
    }

    [Fact]
    public async Task BadSamplesAreSkippedCountedAndNamedWithoutStoppingTheEpoch()
    {
        using var dir = new TempDirectory();
        SyntheticDatasetWriter.WriteImageFolder(dir.Path, 5, 0, 48, seed: 1, numClasses: 2);
        WriteBadFiles(dir.Combine("train", "n00000001"));
        using var ds = ImageNetDataset.Open(dir.Path, DatasetSplit.Train);
        Assert.Equal(13, ds.Count);
        var sampler = new DistributedSampler(ds.Count, 4, seed: 1);
        await using var loader = new DataLoader(ds, new ResizeCenterCropTransform(40, 32), 4, 0, new DataLoaderOptions { DecodeThreads = 2, MaxBadSampleFraction = 0.5 });
        var seen = new List<int>();
        var requested = 0;
        await foreach (var batch in loader.ReadEpoch(sampler, 0, 0, 0, 1))
        {
            Assert.Equal(batch.Count, (int)batch.Images.shape[0]);
            Assert.Equal(batch.Indices.Select(i => (long)ds.GetLabel(i)), batch.Labels.data<long>().ToArray());
            seen.AddRange(batch.Indices);
            requested += batch.Requested;
        }
        Assert.Equal(13, requested);
        Assert.Equal(10, seen.Count);
        var bad = loader.BadSamples.Select(b => Path.GetFileName(b.Source)).Order().ToList();
        Assert.Equal(["zz_empty.JPEG", "zz_garbage.JPEG", "zz_truncated.JPEG"], bad);
        Assert.DoesNotContain(seen, i => ds.DescribeSample(i).Contains("zz_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TooManyBadSamplesFailWithAMessageNamingTheFiles()
    {
        using var dir = new TempDirectory();
        SyntheticDatasetWriter.WriteImageFolder(dir.Path, 5, 0, 48, seed: 1, numClasses: 2);
        WriteBadFiles(dir.Combine("train", "n00000000"));
        using var ds = ImageNetDataset.Open(dir.Path, DatasetSplit.Train);
        await using var loader = new DataLoader(ds, new ResizeCenterCropTransform(40, 32), 13, 0, new DataLoaderOptions { DecodeThreads = 2, MaxBadSampleFraction = 0.1 });
        var e = await Assert.ThrowsAsync<TooManyBadSamplesException>(async () =>
        {
            await foreach (var _ in loader.ReadBatches(0, [Enumerable.Range(0, 13).ToArray()]))
            {
            }
        });
        Assert.Contains("zz_truncated.JPEG", e.Message);
        Assert.Contains("zz_garbage.JPEG", e.Message);
        Assert.Contains("3 of 13", e.Message);
        // The loader stays usable after the failure.
        await foreach (var b in loader.ReadBatches(0, [[0, 1]]))
        {
            Assert.Equal(2, b.Count);
        }
    }

    [Fact]
    public async Task StoppingEarlyReturnsTheBuffersAndTheLoaderCanRunAgain()
    {
        using var dir = new TempDirectory();
        SyntheticDatasetWriter.WriteCifar(dir.Path, 200, 10, seed: 1);
        using var ds = CifarBinaryDataset.Open(dir.Path, DatasetSplit.Train, 0);
        await using var loader = new DataLoader(ds, StandardTransforms.CifarTrain(), 10, 0, new DataLoaderOptions { DecodeThreads = 2, PrefetchBytes = 1 });
        Assert.Equal(2, loader.PrefetchBatches);
        var sampler = new DistributedSampler(ds.Count, 10, 0);
        for (var round = 0; round < 3; round++)
        {
            var n = 0;
            await foreach (var b in loader.ReadEpoch(sampler, round, 0, 0, 1))
            {
                if (++n == 3)
                {
                    break;
                }
            }
        }
        var all = 0;
        await foreach (var b in loader.ReadEpoch(sampler, 0, 150, 0, 1))
        {
            all += b.Count;
        }
        Assert.Equal(50, all);
        Assert.InRange(loader.ResidentBoundBytes, 2 * loader.BatchBytes, 2 * loader.BatchBytes + (16 << 20));
    }

    [Fact]
    public async Task TenCropBatchesHaveAViewDimension()
    {
        using var dir = new TempDirectory();
        SyntheticDatasetWriter.WriteImageFolder(dir.Path, 2, 0, 64, seed: 1, numClasses: 2);
        using var ds = ImageNetDataset.Open(dir.Path, DatasetSplit.Train);
        await using var loader = new DataLoader(ds, new TenCropTransform(48, 40), 4, 0, new DataLoaderOptions { DecodeThreads = 1 });
        await foreach (var b in loader.ReadBatches(0, [[0, 1, 2]]))
        {
            Assert.Equal(new long[] { 3, 10, 3, 40, 40 }, b.Images.shape);
            // View 5 is the mirror of view 1 (top-right crop of the original = top-left crop of the mirror).
            var v1 = b.Images[0, 1];
            var v5 = b.Images[0, 5];
            Assert.True(v1.flip(2).eq(v5).all().item<bool>());
            using var normalised = b.ToDeviceNormalised(CPU, Normalisation.ImageNet);
            Assert.Equal(new long[] { 3, 10, 3, 40, 40 }, normalised.shape);
        }
    }

    [Fact]
    public async Task LoadersResumedWithMoreWorkersDeliverEachSampleOnce()
    {
        using var dir = new TempDirectory();
        SyntheticDatasetWriter.WriteCifar(dir.Path, 250, 10, seed: 1);
        using var ds = CifarBinaryDataset.Open(dir.Path, DatasetSplit.Train, 0);
        var sampler = new DistributedSampler(ds.Count, 24, seed: 5);
        var delivered = new List<int>();
        long cursor = 0;
        // Two workers take 4 global steps, then three workers finish the epoch from the checkpointed cursor.
        foreach (var (world, steps) in new[] { (2, 4), (3, int.MaxValue) })
        {
            var start = cursor;
            for (var rank = 0; rank < world; rank++)
            {
                await using var loader = new DataLoader(ds, StandardTransforms.CifarTrain(), 12, seed: 0, new DataLoaderOptions { DecodeThreads = 1 });
                var taken = 0;
                await foreach (var batch in loader.ReadEpoch(sampler, 0, start, rank, world))
                {
                    delivered.AddRange(batch.Indices);
                    cursor = Math.Max(cursor, batch.Plan!.CursorAfter);
                    if (++taken == steps)
                    {
                        break;
                    }
                }
            }
        }
        Assert.Equal(250, cursor);
        Assert.Equal(Enumerable.Range(0, 250), delivered.Order());
    }

    [Fact]
    public async Task PackedShardsLoadLikeTheFolderTheyCameFrom()
    {
        using var source = new TempDirectory();
        using var shards = new TempDirectory();
        SyntheticDatasetWriter.WriteImageFolder(source.Path, 3, 0, 48, seed: 1, numClasses: 3);
        using var folder = ImageNetDataset.Open(source.Path, DatasetSplit.Train);
        Plateau.Data.Shards.ShardWriter.Pack(folder, shards.Path, 16 * 1024);
        using var packed = DatasetFactory.Open(new DatasetSpec { Path = shards.Path });
        await using var loader = new DataLoader(packed, new ResizeCenterCropTransform(40, 32), 9, 0, new DataLoaderOptions { DecodeThreads = 2 });
        var labels = new List<long>();
        await foreach (var b in loader.ReadBatches(0, [Enumerable.Range(0, 9).ToArray()]))
        {
            Assert.Equal(9, b.Count);
            labels.AddRange(b.Labels.data<long>().ToArray());
        }
        Assert.Equal([0, 0, 0, 1, 1, 1, 2, 2, 2], labels.Order());
    }
}
