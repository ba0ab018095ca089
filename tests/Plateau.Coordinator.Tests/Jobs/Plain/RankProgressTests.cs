using Plateau.Contracts.Training;

namespace Plateau.Coordinator.Tests.Jobs.Plain;

public sealed class RankProgressTests : IDisposable
{
    private readonly PlainJob _job = new();

    public void Dispose() => _job.Dispose();

    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task ARankNotHeardFromForLongerThanTheLimitIsNamedWithItsSilence()
    {
        _job.Formed(JobTestKit.Spec());
        _job.Progress.Start();
        _job.Clock.Advance(TimeSpan.FromSeconds(30));
        _job.Progress.Observe(new ProgressReport { Generation = 1, Rank = 0, GlobalStep = 3 });
        _job.Clock.Advance(TimeSpan.FromSeconds(31));

        var silent = _job.Progress.Silent(Limit, Period);

        Assert.NotNull(silent);
        Assert.Equal((1, 61.0), (silent.Value.Member.Rank, silent.Value.Silence.TotalSeconds));
    }

    [Fact]
    public async Task WhenSeveralRanksAreSilentTheOneSilentLongestIsNamed()
    {
        _job.Formed(JobTestKit.Spec());
        _job.Progress.Start();
        _job.Clock.Advance(TimeSpan.FromSeconds(5));
        _job.Progress.Observe(new ProgressReport { Generation = 1, Rank = 0, GlobalStep = 3 });
        _job.Clock.Advance(TimeSpan.FromSeconds(70));

        var silent = _job.Progress.Silent(Limit, Period);

        Assert.NotNull(silent);
        Assert.Equal((1, 75.0), (silent.Value.Member.Rank, silent.Value.Silence.TotalSeconds));
    }

    [Fact]
    public async Task TimeTheCheckItselfDidNotRunIsNotCountedAgainstTheRanks()
    {
        _job.Formed(JobTestKit.Spec());
        _job.Progress.Start();
        Assert.Null(_job.Progress.Silent(Limit, Period));

        // The coordinator is starved for two minutes: no check, no report heard.
        _job.Clock.Advance(TimeSpan.FromSeconds(120));
        Assert.Null(_job.Progress.Silent(Limit, Period));

        // On time again: of the stall, one check period counts against the ranks, the rest does not.
        for (var checks = 1; checks < 4; checks++)
        {
            _job.Clock.Advance(Period);
            Assert.Null(_job.Progress.Silent(Limit, Period));
        }

        _job.Clock.Advance(Period + TimeSpan.FromSeconds(1));
        var silent = _job.Progress.Silent(Limit, Period);
        Assert.NotNull(silent);
        Assert.Equal((0, 76.0), (silent.Value.Member.Rank, silent.Value.Silence.TotalSeconds));
    }

    [Fact]
    public async Task ARankSilentWhileTheChecksRunOnTimeIsNamedAtTheLimit()
    {
        _job.Formed(JobTestKit.Spec());
        _job.Progress.Start();
        for (var checks = 0; checks < 4; checks++)
        {
            _job.Clock.Advance(Period);
            _job.Progress.Observe(new ProgressReport { Generation = 1, Rank = 0, GlobalStep = checks + 1 });
            Assert.Null(_job.Progress.Silent(Limit, Period));
        }

        _job.Clock.Advance(TimeSpan.FromSeconds(1));
        var silent = _job.Progress.Silent(Limit, Period);

        Assert.NotNull(silent);
        Assert.Equal((1, 61.0), (silent.Value.Member.Rank, silent.Value.Silence.TotalSeconds));
    }

    [Fact]
    public async Task ThePausedJobTellsAReportingRankToPause()
    {
        _job.Formed(JobTestKit.Spec());
        _job.Lifecycle.Pause("operator");

        var ack = _job.Progress.Observe(new ProgressReport { Generation = 1, Rank = 1, GlobalStep = 3 });

        Assert.Equal((WorkerDirective.Pause, "paused: operator"), (ack.Directive, ack.Message));
    }

    [Fact]
    public async Task TheJobsProgressIsTheSlowestRanksStepAndTheSumOfImagesPerSecond()
    {
        _job.Formed(JobTestKit.Spec());

        _job.Progress.Observe(new ProgressReport { Generation = 1, Rank = 0, GlobalStep = 7, ImagesPerSecond = 100 });
        _job.Progress.Observe(new ProgressReport { Generation = 1, Rank = 1, GlobalStep = 5, ImagesPerSecond = 80 });

        Assert.Equal((5L, 180.0), (_job.State.Progress!.GlobalStep, _job.State.Progress.ImagesPerSecond));
    }
}
