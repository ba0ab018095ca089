using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Plateau.ServiceDefaults.Telemetry;
using Plateau.Worker.Tests.Support;
using Plateau.Worker.Training;

namespace Plateau.Worker.Tests.Training;

public sealed class RankTelemetryTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "plateau-rank-telemetry-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task BothRanksEpochSpansAreChildrenOfTheSpanThePlanNames()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var parentId = ActivitySpanId.CreateRandom();
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == PlateauActivities.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var job = new FakeJob(_folder, worldSize: 2, totalEpochs: 1) { TraceParentOf = _ => $"00-{traceId.ToHexString()}-{parentId.ToHexString()}-01" };
        await using var harness = await TrainerHarness.StartAsync(job);

        var results = await harness.RunAsync();

        Assert.All(results, r => Assert.Equal(TrainerOutcome.Completed, r.Outcome));
        var traced = spans.Where(s => s.TraceId == traceId).ToList();
        var epochs = traced.Where(s => s.OperationName == PlateauActivities.Epoch).ToList();
        Assert.Equal([0, 1], epochs.Select(s => (int)s.GetTagItem(PlateauMetrics.RankTag)!).Order());
        Assert.All(epochs, s => Assert.Equal(parentId, s.ParentSpanId));
        var evaluations = traced.Where(s => s.OperationName == PlateauActivities.Evaluate).ToList();
        Assert.Equal(2, evaluations.Count);
        Assert.All(evaluations, e => Assert.Contains(epochs, s => s.SpanId == e.ParentSpanId));
        var checkpoint = Assert.Single(traced, s => s.OperationName == PlateauActivities.Checkpoint);
        Assert.Equal(0, (int)checkpoint.GetTagItem(PlateauMetrics.RankTag)!);
        Assert.Equal([PlateauActivities.CheckpointWrite, PlateauActivities.CheckpointUpload, PlateauActivities.CheckpointCommit],
            traced.Where(s => s.ParentSpanId == checkpoint.SpanId).OrderBy(s => s.StartTimeUtc).Select(s => s.OperationName));
    }

    [Fact]
    public void AStepRecordsItsTimingsAndTheRingBusBandwidth()
    {
        var jobId = "rank-telemetry-" + Guid.NewGuid().ToString("N")[..6];
        var seen = new ConcurrentDictionary<string, double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == PlateauMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == PlateauMetrics.JobIdTag && (string?)tag.Value == jobId)
                {
                    seen[instrument.Name] = Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }

        listener.SetMeasurementEventCallback<double>(Record);
        listener.SetMeasurementEventCallback<long>(Record);
        listener.Start();
        var telemetry = new RankTelemetry(jobId, rank: 1, worldSize: 4, gradientBytes: 1_000_000);
        var outcome = new StepOutcome(32, 64, 10, default, TimeSpan.FromMilliseconds(30), TimeSpan.FromMilliseconds(4), TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2),
            Forward: TimeSpan.FromMilliseconds(12));

        telemetry.Step(outcome, TimeSpan.FromMilliseconds(5), globalStep: 7, learningRate: 0.05, epoch: 2, epochSamples: 640);

        Assert.Equal(0.040, seen["plateau.train.step.duration"], 9);
        Assert.Equal(0.030, seen["plateau.train.compute.duration"], 9);
        Assert.Equal(0.012, seen["plateau.train.forward.duration"], 9);
        Assert.Equal(0.018, seen["plateau.train.backward.duration"], 9);
        Assert.Equal(640, seen["plateau.train.epoch.samples"]);
        Assert.Equal(0.004, seen["plateau.allreduce.duration"], 9);
        Assert.Equal(0.002, seen["plateau.allreduce.wait.duration"], 9);
        Assert.Equal(1_000_000 / 0.004 * 1.5, seen["plateau.allreduce.bus_bandwidth"], 3); // 2(n−1)/n = 1.5 at n = 4
        Assert.Equal(1_000_000, seen["plateau.allreduce.bytes"]);
        Assert.Equal(32, seen["plateau.train.images"]);
        Assert.Equal((0.05, 7.0, 2.0), (seen["plateau.train.learning_rate"], seen["plateau.train.global_step"], seen["plateau.train.epoch"]));
        Assert.False(seen.ContainsKey("plateau.train.skipped_steps"));

        telemetry.Skipped();

        Assert.Equal(1, seen["plateau.train.skipped_steps"]);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
