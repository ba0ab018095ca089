using System.Text.RegularExpressions;
using Plateau.Cli.Reports;

namespace Plateau.Cli.Tests.Reports;

public sealed partial class RunReportTests
{
    [Fact]
    public void TheReportDrawsEveryChartAsSvgPathsThroughItsPoints()
    {
        var html = RunReport.Render(ReportFixtures.Job(), ReportFixtures.Events());

        Assert.Equal(6, Regex.Count(html, "<svg ")); // loss, error, lr, throughput, per rank, timeline
        var paths = SeriesPath().Matches(html).Select(m => (Series: m.Groups["series"].Value, Points: Regex.Count(m.Groups["d"].Value, "[ML]"))).ToList();
        Assert.Equal(["train loss", "val loss", "train top-1", "val top-1", "val top-5", "lr", "images/s", "rank 0", "rank 1"], paths.Select(p => p.Series));
        Assert.All(paths, p => Assert.Equal(4, p.Points));
    }

    [Fact]
    public void ThePlateauDropIsAnnotatedOnTheLearningRateChartAndItsReasonIsListed()
    {
        var html = RunReport.Render(ReportFixtures.Job(), ReportFixtures.Events());

        Assert.Contains("<text x=", html, StringComparison.Ordinal);
        Assert.Matches("class=\"annotation\">plateau: lr 0.1 → 0.01</text>", html);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(ReportFixtures.DropReason), html, StringComparison.Ordinal);
        Assert.DoesNotContain(">initial: ", html, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOperatorsScheduleChangeIsListedWithWhoWhatAndWhy()
    {
        var job = ReportFixtures.Job();
        Assert.DoesNotContain("Schedule changes by operators", RunReport.Render(job, ReportFixtures.Events()), StringComparison.Ordinal);
        job.ScheduleUpdates.Add(new Protos.V1.ScheduleUpdate
        {
            Operator = "alice", Reason = "loss flat since epoch 2 & <noisy>", Patience = 5, Factor = 0.5, DropNow = true,
            At = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch.AddDays(20000)),
        });

        var html = RunReport.Render(job, ReportFixtures.Events());

        Assert.Contains("<td>alice</td><td>patience 5, factor 0.5, drop the rate at the next epoch</td><td>loss flat since epoch 2 &amp; &lt;noisy&gt;</td>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void ThroughputIsEachEpochsSamplesOverItsWallTime()
    {
        var html = RunReport.Render(ReportFixtures.Job(), ReportFixtures.Events());

        // 1024 samples per 90 s epoch.
        Assert.Contains("<title>images/s: 11.38 at 0</title>", html, StringComparison.Ordinal);
        Assert.Contains("<title>images/s: 11.38 at 3</title>", html, StringComparison.Ordinal);
        Assert.Contains("<title>rank 1: 2 at 2</title>", html, StringComparison.Ordinal);
        Assert.Contains("<title>rank 0: 6.5 at 2</title>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void TheTimelineShowsTheRestartAndEveryCheckpoint()
    {
        var html = RunReport.Render(ReportFixtures.Job(), ReportFixtures.Events());

        Assert.Equal(3, Regex.Count(html, "<circle class=\"event checkpoint_committed\""));
        Assert.Equal(1, Regex.Count(html, "<circle class=\"event failure\""));
        Assert.Contains("rank 1 (worker-1 on vm) failed: connection reset", html, StringComparison.Ordinal);
    }

    [Fact]
    public void TheReportNeedsNoNetworkToOpen()
    {
        var html = RunReport.Render(ReportFixtures.Job(), ReportFixtures.Events());

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("src=", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("url(", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("href=", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void AJobWithoutEpochsYetSaysSoInsteadOfDrawingEmptyAxes()
    {
        var job = ReportFixtures.Job();
        job.MetricsHistory.Clear();
        job.LrDecisions.Clear();

        var html = RunReport.Render(job, []);

        Assert.Equal(5, Regex.Count(html, ">no data</text>"));
        Assert.DoesNotMatch(SeriesPath(), html);
    }

    [GeneratedRegex("<path class=\"series\" data-series=\"(?<series>[^\"]*)\" d=\"(?<d>[^\"]*)\"")]
    private static partial Regex SeriesPath();
}
