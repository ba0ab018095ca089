using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;
using Plateau.Coordinator.Jobs;

namespace Plateau.Coordinator.Tests.Jobs.Plain;

public sealed class JobLifecycleTests : IDisposable
{
    private readonly PlainJob _job = new();

    public void Dispose() => _job.Dispose();

    [Fact]
    public void SubmitMovesTheJobToRendezvousUntilTheSpecsTimeout()
    {
        _job.Lifecycle.Submit(JobTestKit.Spec(timeoutSeconds: 45));

        Assert.Equal(JobPhase.Rendezvous, _job.State.Phase);
        Assert.Equal(1, _job.State.Generation);
        Assert.Equal(_job.Clock.GetUtcNow().AddSeconds(45), _job.State.RendezvousDeadline);
        Assert.Empty(_job.Context.TakeOrders());
    }

    [Fact]
    public void AnInvalidSpecIsRefusedWithEveryProblemAndChangesNothing()
    {
        var spec = JobTestKit.Spec() with { Optimizer = new OptimizerSpec { Lr = -1 }, Model = new ModelSpec { Name = "resnet9000" } };
        var job = new PlainJob(models: JobSpecValidator.KnownModels(["resnet50"]));

        var error = Assert.Throws<JobSpecInvalidException>(() => job.Lifecycle.Submit(spec));

        Assert.Equal(["spec.model.name", "spec.optimizer.lr"], error.Errors.Select(e => e.Field).Order(StringComparer.Ordinal));
        Assert.False(job.State.Exists);
        Assert.Empty(job.State.Events);
        job.Dispose();
    }

    [Fact]
    public async Task PauseTellsEveryMemberOfTheFormedGenerationWhy()
    {
        _job.Formed(JobTestKit.Spec());

        _job.Lifecycle.Pause("maintenance");

        var order = Assert.Single(_job.Context.TakeOrders());
        Assert.Equal(MemberOrderKind.Pause, order.Kind);
        Assert.Equal([0, 1], order.Members.Select(m => m.Rank));
        Assert.Equal(_job.State.FormedGeneration, order.Generation);
        Assert.Equal("paused: maintenance", order.Reason);
        Assert.True(order.ReportUndelivered);
    }

    [Fact]
    public async Task ALostGroupReFormsAsTheNextGenerationAndAsksTheOldMembersToRejoin()
    {
        _job.Formed(JobTestKit.Spec(maxRestarts: 1));

        _job.Lifecycle.Report(new FailureReport { Generation = 1, ReporterRank = 0, FailedRank = 1, Reason = "connection reset" });

        Assert.Equal(JobPhase.Rendezvous, _job.State.Phase);
        Assert.Equal(2, _job.State.Generation);
        Assert.Equal(0, _job.State.FormedGeneration);
        Assert.Contains("rank 1 (w1 on host-w1", _job.EventTexts(JobEventKind.Failure).Single(), StringComparison.Ordinal);
        var stop = Assert.Single(_job.Context.TakeOrders());
        Assert.Equal((MemberOrderKind.Stop, 1L, true, false), (stop.Kind, stop.Generation, stop.Rejoin, stop.ReportUndelivered));
    }

    [Fact]
    public async Task AFailureWithNoRestartsLeftFailsTheJobAndStopsTheMembersForGood()
    {
        _job.Formed(JobTestKit.Spec(maxRestarts: 0));

        _job.Lifecycle.GroupFailed("rank 0 failed: no progress for 61 s");

        Assert.Equal(JobPhase.Failed, _job.State.Phase);
        Assert.Equal("rank 0 failed: no progress for 61 s; no restarts left (maxRestarts 0)", _job.State.PhaseReason);
        var stop = Assert.Single(_job.Context.TakeOrders());
        Assert.False(stop.Rejoin);
    }

    [Fact]
    public async Task AJobScopeFailureEndsTheJobWithoutARestart()
    {
        _job.Formed(JobTestKit.Spec(maxRestarts: 5));

        _job.Lifecycle.Report(new FailureReport { Generation = 1, ReporterRank = 0, Reason = "10 steps in a row were not finite", Scope = FailureScope.Job });

        Assert.Equal(JobPhase.Failed, _job.State.Phase);
        Assert.Equal(0, _job.State.Restarts);
        Assert.Equal("rank 0 stopped the job: 10 steps in a row were not finite", _job.State.PhaseReason);
    }

    [Fact]
    public async Task AReportFromAnOlderGenerationIsRefused()
    {
        _job.Formed(JobTestKit.Spec());

        Assert.Throws<StaleGenerationException>(() => _job.Lifecycle.Report(new FailureReport { Generation = 7, Reason = "late" }));
        Assert.Equal(JobPhase.Running, _job.State.Phase);
    }
}
