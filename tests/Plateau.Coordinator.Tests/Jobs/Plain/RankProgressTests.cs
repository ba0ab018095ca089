using Plateau.Contracts.Training;

namespace Plateau.Coordinator.Tests.Jobs.Plain;

public sealed class RankProgressTests : IDisposable
{
    private readonly PlainJob _job = new();

    public void Dispose() => _job.Dispose();

    [Fact]
    public async Task ARankNotHeardFromForLongerThanTheLimitIsNamedWithItsSilence()
    {
        _job.Formed(JobTestKit.Spec());
        _job.Progress.Start();
        _job.Clock.Advance(TimeSpan.FromSeconds(30));
        _job.Progress.Observe(new ProgressReport { Generation = 1, Rank = 0, GlobalStep = 3 });
        _job.Clock.Advance(TimeSpan.FromSeconds(31));

        var silent = _job.Progress.Silent(TimeSpan.FromSeconds(60));

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
