using Plateau.Contracts.Specs;
using Plateau.Worker.Training;

namespace Plateau.Worker.Tests.Training;

public sealed class TrainingDataCacheTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "plateau-data-cache-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public void HoldersOfTheSameDatasetShareOneOpenCopyThatClosesWithTheLastOfThem()
    {
        var cache = new TrainingDataCache();
        var registrar = cache.Acquire(Synthetic("a"), seed: 7);
        var rank0 = cache.Acquire(Synthetic("a"), seed: 7);
        Assert.Same(registrar.Data, rank0.Data);
        Assert.Equal(1, cache.OpenCount);

        registrar.Dispose();
        registrar.Dispose(); // a second release of one lease changes nothing
        Assert.Equal(1, cache.OpenCount);
        var rank1 = cache.Acquire(Synthetic("a"), seed: 7);
        Assert.Same(rank0.Data, rank1.Data);

        rank0.Dispose();
        rank1.Dispose();
        Assert.Equal(0, cache.OpenCount);
        using var later = cache.Acquire(Synthetic("a"), seed: 7);
        Assert.NotSame(rank0.Data, later.Data);
    }

    [Fact]
    public void AnotherPathSeedOrOptionIsAnotherDataset()
    {
        var cache = new TrainingDataCache();
        using var first = cache.Acquire(Synthetic("a"), seed: 7);
        using var otherSeed = cache.Acquire(Synthetic("a"), seed: 8);
        using var otherPath = cache.Acquire(Synthetic("b"), seed: 7);
        using var otherOption = cache.Acquire(Synthetic("c", validation: "4"), seed: 7);
        Assert.Equal(4, cache.OpenCount);
        Assert.Equal(4, otherOption.Data.Summary.ValidationSamples);
        Assert.Equal(2, first.Data.Summary.ValidationSamples);
    }

    [Fact]
    public void ADatasetThatCannotBeOpenedNamesTheFieldAndIsNotKept()
    {
        var cache = new TrainingDataCache();
        var missing = new DatasetSpec { Kind = DatasetKind.Cifar10, Path = Path.Combine(_folder, "absent") };
        var error = Assert.Throws<ArgumentException>(() => cache.Acquire(missing, seed: 1));
        Assert.StartsWith("spec.dataset.path", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, cache.OpenCount);
    }

    [Fact]
    public void AHalfWrittenSyntheticSetIsNotTakenForAFinishedOne()
    {
        // What another rank sees while the first is still writing: the training batches, no test batch yet.
        var folder = Path.Combine(_folder, "half");
        Plateau.Data.Synthetic.SyntheticDatasetWriter.WriteCifar(folder, 6, 2, seed: 7);
        File.Delete(Path.Combine(folder, "test_batch.bin"));
        File.Delete(Path.Combine(folder, "batches.meta.txt"));

        TrainingData.EnsureSynthetic(folder, train: 6, validation: 2, seed: 7);

        using var data = TrainingData.Open(Synthetic("half"), seed: 7);
        Assert.Equal((6, 2), (data.Summary.TrainSamples, data.Summary.ValidationSamples));
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private DatasetSpec Synthetic(string folder, string validation = "2") => new()
    {
        Kind = DatasetKind.Synthetic,
        Path = Path.Combine(_folder, folder),
        Options = new Dictionary<string, string> { ["train"] = "6", ["validation"] = validation },
    };
}
