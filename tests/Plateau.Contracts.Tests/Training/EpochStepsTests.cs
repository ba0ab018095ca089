using Plateau.Contracts.Training;

namespace Plateau.Contracts.Tests.Training;

public class EpochStepsTests
{
    /// <summary>Batch counts and last batch sizes as PyTorch 2 prints them for
    /// <c>len(DataLoader(range(n), batch_size=b, drop_last=d))</c> and its last batch.</summary>
    [Theory]
    [InlineData(10, 4, 2, 3, 2)]
    [InlineData(12, 4, 3, 3, 4)]
    [InlineData(3, 4, 0, 1, 3)]
    [InlineData(50000, 128, 390, 391, 80)]
    [InlineData(45000, 256, 175, 176, 200)]
    [InlineData(1, 1, 1, 1, 1)]
    public void StepsPerEpochMatchPyTorchsDataLoaderWithAndWithoutDropLast(int samples, int batch, int dropped, int kept, int lastBatch)
    {
        Assert.Equal(dropped, EpochSteps.From(samples, 0, batch, dropLast: true));
        Assert.Equal(kept, EpochSteps.From(samples, 0, batch, dropLast: false));
        Assert.Equal(lastBatch, EpochSteps.BatchAt(samples, (kept - 1L) * batch, batch));
    }

    [Fact]
    public void FromAMidEpochCursorOnlyTheSamplesLeftCount()
    {
        // 10 samples, batch 4, resumed after 3 samples (a world-size change moved the batch boundaries).
        Assert.Equal(1, EpochSteps.From(10, 3, 4, dropLast: true));
        Assert.Equal(2, EpochSteps.From(10, 3, 4, dropLast: false));
        Assert.Equal(0, EpochSteps.From(10, 10, 4, dropLast: false));
    }

    [Fact]
    public void TheCursorStopsAtTheEndOfTheEpochAfterThePartialStep()
    {
        Assert.Equal(8, EpochSteps.CursorAfter(10, 0, 2, 4));
        Assert.Equal(10, EpochSteps.CursorAfter(10, 0, 3, 4));
        Assert.Equal(10, EpochSteps.CursorAfter(10, 3, 2, 4));
    }
}
