using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Plateau.Contracts.Jobs;
using Plateau.Coordinator.Jobs;
using Plateau.Coordinator.Storage.Reminders;
using static Plateau.Coordinator.Tests.Jobs.JobTestKit;

namespace Plateau.Coordinator.Tests.Jobs;

/// <summary>With the embedded default's file store, a JobGrain holds its reminder in the state directory while
/// its job is unfinished.</summary>
public sealed class JobReminderTests : IAsyncLifetime
{
    private readonly CoordinatorCluster _cluster = new();

    public Task InitializeAsync() => _cluster.InitializeAsync();

    public Task DisposeAsync() => _cluster.DisposeAsync();

    [Fact]
    public async Task ARunningJobHoldsOneReminderInTheStateDirectoryAndACancelledOneNone()
    {
        var running = NewJobId("alive");
        var job = _cluster.Grains.GetGrain<IJobGrain>(running);
        await job.Submit(Spec());
        await job.RegisterWorker(Worker($"{running}-a"));
        await job.RegisterWorker(Worker($"{running}-b"));
        var cancelled = NewJobId("cancelled");
        await _cluster.Grains.GetGrain<IJobGrain>(cancelled).Submit(Spec());
        await _cluster.Grains.GetGrain<IJobGrain>(cancelled).Cancel("not needed");

        Assert.Equal(JobPhase.Running, (await job.GetSummary())!.Phase);
        var row = Assert.Single(await RemindersOf(running));
        Assert.Equal((JobAliveReminder.Name, TimeSpan.FromMinutes(1)), (row.ReminderName, row.Period));
        Assert.Empty(await RemindersOf(cancelled));

        await job.Cancel("done with it");

        Assert.Empty(await RemindersOf(running));
    }

    [Fact]
    public void OnlyAJobThatExistsAndIsUnfinishedWantsTheReminder()
    {
        Assert.False(JobAliveReminder.Wanted(new JobState()));
        Assert.Equal(
            [JobPhase.Pending, JobPhase.Rendezvous, JobPhase.Running, JobPhase.Paused],
            Enum.GetValues<JobPhase>().Where(phase => JobAliveReminder.Wanted(new JobState { Spec = Spec(), Phase = phase })));
    }

    /// <summary>Read from the file by a table of its own, as a restarted coordinator would.</summary>
    private async Task<IList<ReminderEntry>> RemindersOf(string jobId)
    {
        using var table = new FileReminderTable(Options.Create(new FileReminderTableOptions { Directory = _cluster.StateDirectory }), NullLogger<FileReminderTable>.Instance);
        return (await table.ReadRows(GrainId.Create("job", jobId))).Reminders;
    }
}
