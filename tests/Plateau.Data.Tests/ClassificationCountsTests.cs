using Plateau.Data.Metrics;
using static TorchSharp.torch;

namespace Plateau.Data.Tests;

public class ClassificationCountsTests
{
    [Fact]
    public void CountsFromLogitsAreTop1Top5AndSummedLoss()
    {
        var logits = tensor(new float[,]
        {
            { 9, 1, 2, 3, 4, 5, 0 },   // label 0: top-1
            { 9, 8, 7, 6, 5, 0, 1 },   // label 4: top-5 only
            { 0, 1, 2, 3, 4, 5, 9 },   // label 0: miss
        });
        var labels = tensor(new long[] { 0, 4, 0 });
        var counts = ClassificationCounts.FromLogits(logits, labels);
        Assert.Equal((1L, 2L, 3L), (counts.Correct1, counts.Correct5, counts.Total));
        var expectedLoss = nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).item<float>();
        Assert.Equal(expectedLoss, counts.LossSum, 4);
    }

    [Fact]
    public void MergedRankCountsEqualTheWholeSetsCounts()
    {
        var a = new ClassificationCounts(10, 20, 30, 4.5);
        var b = new ClassificationCounts(1, 2, 3, 0.5);
        var sum = ClassificationCounts.Sum([a, b, ClassificationCounts.Zero]);
        Assert.Equal(new ClassificationCounts(11, 22, 33, 5.0), sum);
        Assert.Equal(11.0 / 33, sum.Top1Accuracy, 10);
        Assert.Equal(5.0 / 33, sum.MeanLoss, 10);
    }
}
