using Plateau.Contracts.Jobs;
using Plateau.Contracts.Training;

namespace Plateau.Contracts.Tests;

public class TrainingMessagesTests
{
    [Fact]
    public void SummedCountsGiveExactErrorsNotAveragesOfAverages()
    {
        // Rank 0: 90/100 correct; rank 1: 10/50. Mean of rank errors would be 45%; the exact error is 1 - 100/150.
        var sum = new EvalCounts(90, 95, 100, 30) + new EvalCounts(10, 40, 50, 45);

        Assert.Equal(new EvalCounts(100, 135, 150, 75), sum);
        Assert.Equal(1.0 - (100.0 / 150), sum.Top1Error, 12);
        Assert.Equal(1.0 - (135.0 / 150), sum.Top5Error, 12);
        Assert.Equal(0.5, sum.MeanLoss, 12);
    }

    [Fact]
    public void EpochMetricsWithTheSamePerRankRatesAreEqualWhateverListHoldsThem()
    {
        var a = new EpochMetrics { Epoch = 1, RankImagesPerSecond = new PerRankValues([250.0, 100.0]) };
        var b = new EpochMetrics { Epoch = 1, RankImagesPerSecond = new PerRankValues(new List<double> { 250.0, 100.0 }) };

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, b with { RankImagesPerSecond = new PerRankValues([250.0, 99.0]) });
        Assert.Equal(PerRankValues.Empty, new EpochMetrics().RankImagesPerSecond);
    }

    [Fact]
    public void EmptyCountsHaveNoError() => Assert.True(double.IsNaN(EvalCounts.Zero.Top1Error));

    [Fact]
    public void PlanRateFollowsItsSegments()
    {
        var plan = new EpochPlan { LrSegments = [new LrSegment(0, 10, 0.0, 1.0), new LrSegment(10, 20, 1.0, 1.0)] };

        Assert.Equal((0.0, 0.5, 1.0, 1.0), (plan.LearningRateAt(0), plan.LearningRateAt(5), plan.LearningRateAt(10), plan.LearningRateAt(25)));
    }
}
