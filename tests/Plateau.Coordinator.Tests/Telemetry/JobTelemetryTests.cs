using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Training;
using Plateau.Coordinator.Tests.Jobs;
using Plateau.ServiceDefaults.Telemetry;
using static Plateau.Coordinator.Tests.Jobs.JobTestKit;

namespace Plateau.Coordinator.Tests.Telemetry;

/// <summary>What the JobGrain records as epochs complete: the per-rank images/s of the epoch metrics, and the job's instruments.</summary>
public sealed class JobTelemetryTests : IClassFixture<CoordinatorCluster>, IDisposable
{
    private readonly CoordinatorCluster _fixture;
    private readonly MeterListener _listener;
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();

    public JobTelemetryTests(CoordinatorCluster fixture)
    {
        _fixture = fixture;
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == PlateauMetrics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<double>((i, v, t, _) => Keep(i, v, t));
        _listener.SetMeasurementEventCallback<long>((i, v, t, _) => Keep(i, v, t));
        _listener.Start();
    }

    [Fact]
    public async Task AnEpochsMetricsHoldEachRanksImagesPerSecondAndTheJobsInstrumentsFollowTheSchedule()
    {
        var id = NewJobId("metered");
        var job = _fixture.Grains.GetGrain<IJobGrain>(id);
        await job.Submit(Spec());
        await job.RegisterWorker(Worker($"{id}-a"));
        await job.RegisterWorker(Worker($"{id}-b"));
        await Eventually(() => job.GetEpochPlan(1, 0), r => r.Status == EpochPlanStatus.Ready, "epoch 0 planned");

        // 500 samples per rank: rank 0 in 2 s, rank 1 (the straggler) in 5 s.
        await job.ReportEpoch(Report(1, 0, 0, 10, correct1: 60, total: 100) with { TrainSeconds = 2 });
        await job.ReportEpoch(Report(1, 1, 0, 10, correct1: 40, total: 100) with { TrainSeconds = 5 });
        await job.ReportEpoch(Report(1, 0, 1, 20, correct1: 45, total: 100));
        await job.ReportEpoch(Report(1, 1, 1, 20, correct1: 45, total: 100));

        var summary = (await job.GetSummary())!;
        Assert.Equal([250.0, 100.0], summary.MetricsHistory[0].RankImagesPerSecond.Values);
        Assert.Equal([0.0, 0.0], summary.MetricsHistory[1].RankImagesPerSecond.Values); // not measured
        var mine = _measurements.Where(m => (string?)m.Tags.GetValueOrDefault(PlateauMetrics.JobIdTag) == id).ToList();
        Assert.Equal([0.5, 0.55], mine.Where(m => m.Instrument == "plateau.job.val.top1_error").Select(m => Math.Round(m.Value, 9)));
        Assert.Equal([0.0, 1.0], mine.Where(m => m.Instrument == "plateau.job.epoch").Select(m => m.Value));
        var plateau = Assert.Single(mine, m => m.Instrument == "plateau.job.lr_decisions" && (string?)m.Tags[PlateauMetrics.KindTag] == "plateau");
        Assert.Equal(1, plateau.Value);
        Assert.Equal(0.01, mine.Last(m => m.Instrument == "plateau.job.learning_rate").Value, 12);
        Assert.Contains(mine, m => m.Instrument == "plateau.job.ranks" && m.Value == 2);
        Assert.Contains(mine, m => m.Instrument == "plateau.job.phase" && (string?)m.Tags[PlateauMetrics.PhaseTag] == "running" && m.Value == 1);
    }

    [Fact]
    public async Task TheWorkersGaugeCountsThemByStateAndDropsToZeroWhenTheJobEnds()
    {
        var id = NewJobId("workers");
        var job = _fixture.Grains.GetGrain<IJobGrain>(id);
        await job.Submit(Spec());
        await job.RegisterWorker(Worker($"{id}-a"));
        Assert.Equal((0, 1, 0), Latest(id));

        await job.RegisterWorker(Worker($"{id}-b"));
        await job.RegisterWorker(Worker($"{id}-c"));
        Assert.Equal((2, 0, 1), Latest(id)); // c is beyond workers.max

        await job.Cancel("test over");
        Assert.Equal((0, 0, 0), Latest(id));
    }

    /// <summary>The latest (training, waiting, standby) values recorded for the job.</summary>
    private (double Training, double Waiting, double Standby) Latest(string jobId)
    {
        double Of(string state) => _measurements.Last(m => m.Instrument == "plateau.job.workers"
            && (string?)m.Tags.GetValueOrDefault(PlateauMetrics.JobIdTag) == jobId && (string?)m.Tags[PlateauMetrics.WorkerStateTag] == state).Value;
        return (Of("training"), Of("waiting"), Of("standby"));
    }

    public void Dispose() => _listener.Dispose();

    private void Keep<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }

        _measurements.Enqueue((instrument.Name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), copy));
    }
}
