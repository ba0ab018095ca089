using Plateau.Contracts.Specs;

namespace Plateau.Contracts.Tests.Specs;

public sealed class BatchSplitTests
{
    [Theory]
    [InlineData(256, null, 8, 256, 32)]
    [InlineData(null, 32, 8, 256, 32)]
    [InlineData(256, 32, 8, 256, 32)]
    public void ABatchThatSplitsEvenlyGivesTheGlobalAndPerRankSizes(int? global, int? perDevice, int ranks, int expectedGlobal, int expectedPerRank) =>
        Assert.Equal((expectedGlobal, expectedPerRank), BatchSplit.For(new BatchSpec { Global = global, PerDevice = perDevice }, ranks));

    [Theory]
    [InlineData(250, null, 8)]
    [InlineData(256, 32, 4)]
    [InlineData(4, null, 8)]
    [InlineData(null, null, 8)]
    [InlineData(256, null, 0)]
    public void ABatchThatDoesNotSplitGivesNothing(int? global, int? perDevice, int ranks) =>
        Assert.Null(BatchSplit.For(new BatchSpec { Global = global, PerDevice = perDevice }, ranks));

    [Fact]
    public void WorldSizesAreWholeWorkersLargestFirst() =>
        Assert.Equal([8, 6, 4], BatchSplit.WorldSizes(new WorkersSpec { Min = 2, Max = 4, DevicesPerWorker = 2 }));

    [Fact]
    public void TheValidatorRefusesAGlobalBatchThatOnlyFitsAWorldSizeNoWholeNumberOfWorkersGives()
    {
        // 3 ranks would split 3, but with two devices per worker only 2 or 4 ranks can form.
        var spec = new JobSpec
        {
            Model = new ModelSpec { Name = "resnet18" },
            Dataset = new DatasetSpec { Kind = DatasetKind.Synthetic },
            Epochs = 1,
            Batch = new BatchSpec { Global = 3 },
            Workers = new WorkersSpec { Min = 1, Max = 2, DevicesPerWorker = 2 },
        };

        var error = Assert.Single(JobSpecValidator.Validate(spec));

        Assert.Equal(("spec.batch.global", "3 is not divisible by any world size in 2, 4"), (error.Field, error.Message));
    }
}
