using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;

namespace Plateau.Coordinator.Tests.Jobs.Plain;

public sealed class ScheduleUpdateTests : IDisposable
{
    private readonly PlainJob _job = new();

    public void Dispose() => _job.Dispose();

    private static ScheduleSpec Plateau(int patience = 10) => new() { Plateau = new PlateauScheduleSpec { Patience = patience, Factor = 0.1 } };

    [Fact]
    public async Task AForcedDropIsAppliedAtTheNextEpochPlanAndRecordedWithTheOperatorsReason()
    {
        _job.Formed(JobTestKit.Spec(epochs: 5, schedule: Plateau()));
        var before = _job.State.Scheduler.Lr;

        _job.Epochs.Update(new ScheduleUpdate { Operator = "alice", Reason = "loss is flat since epoch 30", DropNow = true });

        Assert.Equal(before, _job.State.CurrentPlan!.LearningRateAt(0), 12); // the running epoch keeps its rate
        Complete(epoch: 0, step: 10);
        var decision = _job.State.LrDecisions[^1];
        Assert.Equal((LrDecisionKind.Operator, 1), (decision.Kind, decision.Epoch));
        Assert.Equal(before * 0.1, decision.NewLr, 12);
        Assert.Equal("operator alice forced a drop: loss is flat since epoch 30 → lr 0.1 → 0.01", decision.Reason);
        Assert.Equal(before * 0.1, _job.State.CurrentPlan!.LearningRateAt(_job.State.CurrentPlan.StartGlobalStep), 12);
        Assert.Null(_job.State.PendingDrop);
    }

    [Fact]
    public async Task ANewPatienceDecidesTheNextEvaluationWhileTheSubmittedSpecStaysAsItWas()
    {
        _job.Formed(JobTestKit.Spec(epochs: 5, schedule: Plateau(patience: 10)));
        Complete(epoch: 0, step: 10, correct1: 60);

        var summary = Update(new ScheduleUpdate { Operator = "bob", Reason = "shorter patience", Patience = 0 });
        Complete(epoch: 1, step: 20, correct1: 30);

        Assert.Equal(LrDecisionKind.Plateau, _job.State.LrDecisions[^1].Kind);
        Assert.Equal(10, _job.State.Spec!.Schedule.Plateau!.Patience);
        Assert.Equal(0, summary.Plateau!.Patience);
        var update = Assert.Single(summary.ScheduleUpdates);
        Assert.Equal((_job.Clock.GetUtcNow(), "bob"), (update.At, update.Operator));
        var announced = Assert.Single(_job.State.Events, e => e.Kind == JobEventKind.ScheduleUpdated);
        Assert.Equal("operator bob changed the schedule: patience 10 → 0; reason: shorter patience", announced.Message);
        Assert.IsType<ScheduleUpdatedDetail>(announced.Detail);
    }

    [Fact]
    public async Task AnUpdateWithoutWhoOrWhyOrWithBadValuesIsRefusedAndChangesNothing()
    {
        _job.Formed(JobTestKit.Spec(schedule: Plateau()));
        var events = _job.State.Events.Count;

        var error = Assert.Throws<JobSpecInvalidException>(() => _job.Epochs.Update(new ScheduleUpdate { Factor = 1.5, Patience = -1, Reason = new string('x', 2000) }));

        Assert.Equal(["factor", "operator", "patience", "reason"], error.Errors.Select(e => e.Field).Order(StringComparer.Ordinal));
        Assert.Contains("must be at most 1000 characters, got 'xxxx", error.Errors.Single(e => e.Field == "reason").Message, StringComparison.Ordinal);
        Assert.True(error.Errors.Single(e => e.Field == "reason").Message.Length < 200);
        Assert.Null(_job.State.PlateauOverride);
        Assert.Equal(events, _job.State.Events.Count);
    }

    [Fact]
    public async Task AJobWithoutAPlateauScheduleOrThatEndedCannotBeSteered()
    {
        var steps = new ScheduleSpec { Steps = new StepScheduleSpec { Milestones = [5], Gamma = 0.1 } };
        _job.Formed(JobTestKit.Spec(schedule: steps));

        var error = Assert.Throws<JobTransitionException>(() => _job.Epochs.Update(new ScheduleUpdate { Operator = "a", Reason = "b", DropNow = true }));
        Assert.Contains("no plateau schedule", error.Message, StringComparison.Ordinal);

        _job.Lifecycle.Cancel("done");
        Assert.Throws<JobTransitionException>(() => _job.Epochs.Update(new ScheduleUpdate { Operator = "a", Reason = "b", DropNow = true }));
    }

    private JobSummary Update(ScheduleUpdate update)
    {
        _job.Epochs.Update(update);
        return Coordinator.Jobs.JobSummaryProjection.Of(_job.State);
    }

    private void Complete(int epoch, long step, long correct1 = 60)
    {
        foreach (var rank in new[] { 0, 1 })
        {
            _job.Epochs.Accept(JobTestKit.Report(1, rank, epoch, step, correct1, total: 100));
        }
    }
}
