using Plateau.Coordinator.Jobs;

namespace Plateau.Coordinator.Tests.Jobs;

public sealed class StragglerDetectorTests
{
    [Fact]
    public void ARankTwiceAsSlowAsTheOthersMedianForThreeReportsIsNamedOnce()
    {
        var detector = new StragglerDetector();
        var verdicts = new List<StragglerVerdict>();
        for (var report = 0; report < 6; report++)
        {
            foreach (var (rank, seconds) in new[] { (0, 0.10), (1, 0.11), (2, 0.35), (3, 0.09) })
            {
                if (detector.Observe(rank, seconds) is { } verdict)
                {
                    verdicts.Add(verdict);
                }
            }
        }

        var named = Assert.Single(verdicts);
        Assert.Equal(2, named.Rank);
        Assert.Equal(0.10, named.OthersMedianSeconds, 9);
        Assert.Equal(3.5, named.Ratio, 9);
    }

    [Fact]
    public void OneSlowWindowOrASlowdownBelowTheFactorIsNotAStraggler()
    {
        var detector = new StragglerDetector();
        var seconds = new[] { 0.10, 0.50, 0.10, 0.19, 0.19, 0.19, 0.19 };
        foreach (var s in seconds)
        {
            Assert.Null(detector.Observe(0, 0.10));
            Assert.Null(detector.Observe(1, s));
        }
    }

    [Fact]
    public void ARankThatRecoveredIsNamedAgainWhenItSlowsDownAgain()
    {
        var detector = new StragglerDetector();
        var named = 0;
        foreach (var s in new[] { 0.3, 0.3, 0.3, 0.1, 0.3, 0.3, 0.3 })
        {
            detector.Observe(0, 0.1);
            named += detector.Observe(1, s) is null ? 0 : 1;
        }

        Assert.Equal(2, named);
    }
}
