using Plateau.Contracts.Jobs;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;
using Plateau.Coordinator.Jobs;

namespace Plateau.Coordinator.Tests.Jobs.Plain;

public sealed class EpochPlannerTests : IDisposable
{
    private readonly PlainJob _job = new();

    public void Dispose() => _job.Dispose();

    [Fact]
    public async Task AnEpochCompletesOnlyWithEveryRanksReportAndThenTheNextIsPlanned()
    {
        _job.Formed(JobTestKit.Spec(epochs: 3));

        Assert.True(_job.Epochs.Accept(JobTestKit.Report(1, rank: 0, epoch: 0, step: 10, correct1: 50, total: 100)));
        Assert.Equal(EpochPlanStatus.Pending, _job.Epochs.PlanFor(1, 1).Status);
        Assert.Equal("epoch 0 is still open: waiting for the reports of ranks 1", _job.Epochs.PlanFor(1, 1).Message);

        _job.Epochs.Accept(JobTestKit.Report(1, rank: 1, epoch: 0, step: 10, correct1: 50, total: 100));

        var next = _job.Epochs.PlanFor(1, 1);
        Assert.Equal(EpochPlanStatus.Ready, next.Status);
        Assert.Equal((1, 10L, 20L), (next.Plan!.Epoch, next.Plan.StartGlobalStep, next.Plan.EndGlobalStep));
        var metrics = Assert.Single(_job.State.Metrics);
        Assert.Equal(0.5, metrics.ValTop1Error);
        var ready = Assert.Single(_job.Context.TakeOrders(), o => o.Kind == MemberOrderKind.EpochReady);
        Assert.Equal((1, 2, false), (ready.Epoch, ready.Members.Count, ready.ReportUndelivered));
    }

    [Theory]
    [InlineData(true, 10L)]
    [InlineData(false, 11L)]
    public void TheLastPartialBatchIsAStepOfEveryEpochOnlyWithoutDropLast(bool dropLast, long steps)
    {
        // 1050 samples, global batch 100: PyTorch's DataLoader gives 10 batches with drop_last, 11 without.
        var spec = JobTestKit.Spec(epochs: 3) with { Batch = new BatchSpec { Global = 100, DropLast = dropLast } };
        _job.Lifecycle.Submit(spec);
        _job.Rendezvous.Register(JobTestKit.Worker("w0", dataset: new DatasetSummary(1050, 100, 10)));
        _job.Rendezvous.Register(JobTestKit.Worker("w1", dataset: new DatasetSummary(1050, 100, 10)));

        var plan = _job.State.CurrentPlan!;
        Assert.Equal((steps, 0L, steps), (plan.StepsInEpoch, plan.StartGlobalStep, plan.EndGlobalStep));
        var resumed = _job.Epochs.BuildPlan(1, cursor: 230, startStep: steps + 2);
        Assert.Equal(steps + 2 + (dropLast ? 8 : 9), resumed.EndGlobalStep);
    }

    [Fact]
    public async Task AValidationErrorThatStopsImprovingDropsTheLearningRateByTheFactor()
    {
        var plateau = new PlateauScheduleSpec { Patience = 0, Factor = 0.1 };
        _job.Formed(JobTestKit.Spec(epochs: 5, schedule: new ScheduleSpec { Plateau = plateau }));
        var initial = _job.State.Scheduler.Lr;

        Complete(epoch: 0, step: 10, correct1: 60);
        Complete(epoch: 1, step: 20, correct1: 30); // worse: 40% → 70% error

        var drop = _job.State.LrDecisions.Last();
        Assert.Equal(LrDecisionKind.Plateau, drop.Kind);
        Assert.Equal(initial * 0.1, drop.NewLr, 12);
        Assert.Equal(initial * 0.1, _job.State.Scheduler.Lr, 12);
        Assert.Contains(drop.Reason, _job.EventTexts(JobEventKind.LrDecision));
    }

    [Fact]
    public async Task TheLastEpochCompletesTheJob()
    {
        _job.Formed(JobTestKit.Spec(epochs: 1));

        Complete(epoch: 0, step: 10, correct1: 60);

        Assert.Equal(JobPhase.Completed, _job.State.Phase);
        Assert.StartsWith("trained 1 epochs (step 10); final train loss", _job.State.PhaseReason, StringComparison.Ordinal);
        Assert.Equal(EpochPlanStatus.Finished, _job.Epochs.PlanFor(1, 1).Status);
    }

    [Fact]
    public async Task AReportForAnEpochAlreadyCompleteIsIgnoredAndOneFromTheFutureRefused()
    {
        _job.Formed(JobTestKit.Spec(epochs: 3));
        Complete(epoch: 0, step: 10, correct1: 60);

        Assert.False(_job.Epochs.Accept(JobTestKit.Report(1, rank: 0, epoch: 0, step: 10, correct1: 1, total: 100)));
        Assert.Throws<ArgumentException>(() => _job.Epochs.Accept(JobTestKit.Report(1, rank: 0, epoch: 2, step: 30, correct1: 1, total: 100)));
        Assert.Single(_job.State.Metrics);
    }

    private void Complete(int epoch, long step, long correct1)
    {
        foreach (var rank in new[] { 0, 1 })
        {
            _job.Epochs.Accept(JobTestKit.Report(1, rank, epoch, step, correct1, total: 100));
        }
    }
}
