using System.Collections.Concurrent;
using System.Diagnostics;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Training;
using Plateau.Coordinator.Tests.Jobs;
using Plateau.ServiceDefaults.Telemetry;
using static Plateau.Coordinator.Tests.Jobs.JobTestKit;

namespace Plateau.Coordinator.Tests.Telemetry;

/// <summary>The coordinator's spans: each epoch plan carries the traceparent of its epoch span (the ranks' epoch spans join that trace); rendezvous and the whole job are root spans.</summary>
public sealed class JobTraceTests : IClassFixture<CoordinatorCluster>, IDisposable
{
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly CoordinatorCluster _fixture;
    private readonly ActivityListener _listener;

    public JobTraceTests(CoordinatorCluster fixture)
    {
        _fixture = fixture;
        _listener = Listen();
    }

    [Fact]
    public async Task EveryEpochPlanCarriesTheTraceparentOfTheCoordinatorsEpochSpan()
    {
        var id = NewJobId("traced");
        var job = _fixture.Grains.GetGrain<IJobGrain>(id);
        await job.Submit(Spec());
        await job.RegisterWorker(Worker($"{id}-a"));
        await job.RegisterWorker(Worker($"{id}-b"));
        var first = await Eventually(() => job.GetEpochPlan(1, 0), r => r.Status == EpochPlanStatus.Ready, "epoch 0 planned");
        await job.ReportEpoch(Report(1, 0, 0, 10, 50, 100));
        await job.ReportEpoch(Report(1, 1, 0, 10, 50, 100));
        var second = (await job.GetEpochPlan(1, 1)).Plan!;

        var plans = new[] { first.Plan!, second };
        var spans = _spans.Where(s => s.OperationName == PlateauActivities.EpochPlan && (string?)s.GetTagItem(PlateauMetrics.JobIdTag) == id).ToList();
        Assert.Equal([0, 1], spans.Select(s => (int)s.GetTagItem("plateau.epoch")!).Order());
        foreach (var plan in plans)
        {
            Assert.True(ActivityContext.TryParse(plan.TraceParent, null, out var context), $"not a traceparent: {plan.TraceParent}");
            var span = spans.Single(s => (int)s.GetTagItem("plateau.epoch")! == plan.Epoch);
            Assert.Equal((span.TraceId, span.SpanId), (context.TraceId, context.SpanId));
            Assert.Equal(ActivityKind.Producer, span.Kind);
        }

        Assert.NotEqual(ActivityContext.Parse(plans[0].TraceParent!, null).TraceId, ActivityContext.Parse(plans[1].TraceParent!, null).TraceId);
    }

    [Fact]
    public async Task RendezvousAndTheWholeJobAreRootSpansFromWhenTheyBegan()
    {
        var id = NewJobId("lifecycle");
        var job = _fixture.Grains.GetGrain<IJobGrain>(id);
        var submitted = await job.Submit(Spec());
        await job.RegisterWorker(Worker($"{id}-a"));
        await job.RegisterWorker(Worker($"{id}-b"));
        await Eventually(() => job.GetSummary(), s => s!.Phase == JobPhase.Running, "group formed");
        await job.Cancel("enough");

        var mine = _spans.Where(s => (string?)s.GetTagItem(PlateauMetrics.JobIdTag) == id).ToList();
        var rendezvous = Assert.Single(mine, s => s.OperationName == PlateauActivities.Rendezvous);
        var whole = Assert.Single(mine, s => s.OperationName == PlateauActivities.Job);
        Assert.Equal((1L, 2), ((long)rendezvous.GetTagItem("plateau.generation")!, (int)rendezvous.GetTagItem("plateau.ranks")!));
        Assert.Equal("cancelled", whole.GetTagItem("plateau.phase"));
        Assert.Equal(submitted.CreatedAt.UtcDateTime, whole.StartTimeUtc);
        Assert.All([rendezvous, whole], s => Assert.Equal(default, s.ParentSpanId));
        Assert.Contains(mine, s => s.OperationName == PlateauActivities.JobPhase && (string?)s.GetTagItem("plateau.phase.to") == "cancelled");
    }

    public void Dispose() => _listener.Dispose();

    private ActivityListener Listen()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == PlateauActivities.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
