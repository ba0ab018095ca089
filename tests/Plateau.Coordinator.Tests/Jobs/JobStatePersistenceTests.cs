using Plateau.Contracts.Jobs;
using Plateau.Contracts.Training;
using static Plateau.Coordinator.Tests.Jobs.JobTestKit;

namespace Plateau.Coordinator.Tests.Jobs;

/// <summary>The JobGrain's state lives in the file store: a new silo on the same folder continues the job.</summary>
public sealed class JobStatePersistenceTests : IAsyncLifetime
{
    private readonly CoordinatorCluster _cluster = new();

    public Task InitializeAsync() => _cluster.InitializeAsync();

    public Task DisposeAsync() => _cluster.DisposeAsync();

    [Fact]
    public async Task JobContinuesAfterTheCoordinatorSiloRestarts()
    {
        var id = NewJobId("restart");
        var job = _cluster.Grains.GetGrain<IJobGrain>(id);
        await job.Submit(Spec());
        await job.RegisterWorker(Worker($"{id}-a"));
        await job.RegisterWorker(Worker($"{id}-b"));
        await job.ReportEpoch(Report(1, 0, 0, 10, 60, 100));
        await job.ReportEpoch(Report(1, 1, 0, 10, 40, 100));
        await job.ReportEpoch(Report(1, 0, 1, 20, 45, 100));
        await job.Pause("coordinator upgrade");
        var before = (await job.GetSummary())!;

        await _cluster.StopAsync();
        await _cluster.StartAsync();
        job = _cluster.Grains.GetGrain<IJobGrain>(id);
        var after = (await job.GetSummary())!;

        Assert.Equal((JobPhase.Paused, "paused: coordinator upgrade", 1L, 2), (after.Phase, after.PhaseReason, after.Generation, after.WorldSize));
        Assert.Equal(before.Transitions, after.Transitions);
        Assert.Equal(before.LrDecisions, after.LrDecisions);
        Assert.Equal(before.MetricsHistory, after.MetricsHistory);
        Assert.Equal(1, (await job.GetEpochPlan(1, 1)).Plan!.Epoch);

        // Rank 0's report of epoch 1 survived the restart: rank 1's completes the epoch and the plateau drop happens.
        await job.Resume("upgraded");
        await job.ReportEpoch(Report(1, 1, 1, 20, 45, 100));
        var decision = (await job.GetSummary())!.LrDecisions.Single(d => d.Kind == LrDecisionKind.Plateau);
        Assert.Equal("val top-1 error 55.00% did not improve on 50.00% for 1 evaluation (patience 0) → lr 0.1 → 0.01", decision.Reason);
        Assert.Equal(EpochPlanStatus.Ready, (await job.GetEpochPlan(1, 2)).Status);
        Assert.Contains(id, await _cluster.Grains.GetGrain<Coordinator.Jobs.IJobCatalogGrain>(0).List());
    }

    [Fact]
    public async Task RendezvousDeadlineStillAppliesAfterARestart()
    {
        var id = NewJobId("restart-deadline");
        await _cluster.Grains.GetGrain<IJobGrain>(id).Submit(Spec(timeoutSeconds: 2));

        await _cluster.StopAsync();
        await _cluster.StartAsync();

        var summary = await Eventually(() => SummaryOf(_cluster.Grains, id), s => s.Phase == JobPhase.Failed, "deadline after restart", seconds: 15);
        Assert.EndsWith("0 of 2 required workers joined (none)", summary.PhaseReason, StringComparison.Ordinal);
    }
}
