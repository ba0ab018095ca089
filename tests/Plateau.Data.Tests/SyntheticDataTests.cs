using Plateau.Data.Datasets;
using Plateau.Data.Synthetic;

namespace Plateau.Data.Tests;

public class SyntheticDataTests
{
    [Fact]
    public void TheSameSeedWritesIdenticalFilesAndAnotherSeedDoesNot()
    {
        using var a = new TempDirectory();
        using var b = new TempDirectory();
        using var c = new TempDirectory();
        SyntheticDatasetWriter.WriteCifar(a.Path, 200, 20, seed: 5);
        SyntheticDatasetWriter.WriteCifar(b.Path, 200, 20, seed: 5);
        SyntheticDatasetWriter.WriteCifar(c.Path, 200, 20, seed: 6);
        foreach (var name in new[] { "data_batch_1.bin", "data_batch_5.bin", "test_batch.bin" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(a.Path, name)), File.ReadAllBytes(Path.Combine(b.Path, name)));
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(a.Path, name)), File.ReadAllBytes(Path.Combine(c.Path, name)));
        }
    }

    [Fact]
    public void ClassesAreBalancedAndTrainAndTestImagesDiffer()
    {
        var g = new SyntheticImageGenerator(10, 32, seed: 1);
        Assert.Equal(Enumerable.Repeat(10, 10), Enumerable.Range(0, 100).GroupBy(i => g.LabelOf(i)).Select(x => x.Count()));
        var train = new byte[32 * 32 * 3];
        var test = new byte[32 * 32 * 3];
        g.Render(0, 3, train);
        g.Render(1, 3, test);
        Assert.NotEqual(train, test);
    }

    [Fact]
    public void ColourAloneDoesNotGiveTheClassAway()
    {
        // A nearest-class-mean classifier on mean RGB must stay near chance: the class is in the shape.
        var g = new SyntheticImageGenerator(10, 32, seed: 2);
        var pixels = new byte[32 * 32 * 3];
        double[] Features(int split, int i)
        {
            g.Render(split, i, pixels);
            var f = new double[3];
            for (var p = 0; p < 1024; p++)
            {
                for (var ch = 0; ch < 3; ch++)
                {
                    f[ch] += pixels[(p * 3) + ch] / 1024.0;
                }
            }
            return f;
        }
        var means = new double[10, 3];
        for (var i = 0; i < 2000; i++)
        {
            var f = Features(0, i);
            for (var ch = 0; ch < 3; ch++)
            {
                means[g.LabelOf(i), ch] += f[ch] / 200;
            }
        }
        var correct = 0;
        for (var i = 0; i < 500; i++)
        {
            var f = Features(1, i);
            var best = Enumerable.Range(0, 10).MinBy(c => Enumerable.Range(0, 3).Sum(ch => Math.Pow(f[ch] - means[c, ch], 2)));
            correct += best == g.LabelOf(i) ? 1 : 0;
        }
        Assert.InRange(correct / 500.0, 0.0, 0.3);
    }

    [Fact]
    public void TwentyThousandCifarImagesGenerateInSeconds()
    {
        using var dir = new TempDirectory();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        SyntheticDatasetWriter.WriteCifar(dir.Path, 20_000, 2_000, seed: 1);
        watch.Stop();
        Assert.InRange(watch.Elapsed.TotalSeconds, 0, 30);
        using var ds = CifarBinaryDataset.Open(dir.Path, DatasetSplit.Train, 0);
        Assert.Equal(20_000, ds.Count);
    }

    [Fact]
    public void ImageFolderOutputHasTheImageNetLayout()
    {
        using var dir = new TempDirectory();
        SyntheticDatasetWriter.WriteImageFolder(dir.Path, trainPerClass: 3, valPerClass: 2, size: 48, seed: 1, numClasses: 4);
        Assert.Equal(DatasetFormat.ImageNet, DatasetFactory.Detect(dir.Path));
        using var train = DatasetFactory.Open(new DatasetSpec { Path = dir.Path });
        using var val = DatasetFactory.Open(new DatasetSpec { Path = dir.Path, Split = DatasetSplit.Validation });
        Assert.Equal((12, 8, 4), (train.Count, val.Count, train.NumClasses));
        Assert.Equal(["n00000000", "n00000001", "n00000002", "n00000003"], train.ClassNames);
        Assert.True(Decoding.ImageDecoder.IsJpeg(File.ReadAllBytes(train.DescribeSample(0))));
    }
}
