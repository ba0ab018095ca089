using System.Collections.Concurrent;
using System.Diagnostics;

namespace Plateau.Collective.Tests.Ring;

/// <summary>Sampled operation spans (one transport: the span is taken around the operation, whatever carries it).</summary>
public sealed class TracingTests : RingTestBase
{
    private const string ParentSourceName = "Plateau.Tests.Tracing";

    protected override DataTransport Transport => DataTransport.Socket;

    [Fact]
    public async Task TheFirstOperationAndEveryNthAfterItGetASpanUnderTheCallersActivityWithWhatMoved()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is CollectiveTracing.SourceName or ParentSourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = span =>
            {
                if (span.Source.Name == CollectiveTracing.SourceName)
                {
                    spans.Enqueue(span);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var parentSource = new ActivitySource(ParentSourceName);
        await using var ring = await StartRingAsync(2, o => o.TraceEveryNthOperation = 3);
        var buffers = new[] { new float[1000], new float[1000] };

        using (var epoch = parentSource.StartActivity("epoch"))
        {
            for (var i = 0; i < 7; i++)
            {
                await ring.AllAsync((g, rank) => g.AllReduceAsync(buffers[rank]));
            }

            var mine = spans.Where(s => s.TraceId == epoch!.TraceId).ToList();
            Assert.Equal(6, mine.Count); // operations 1, 4 and 7 on each of the 2 ranks
            Assert.All(mine, s => Assert.Equal(epoch!.SpanId, s.ParentSpanId));
        }

        // Other tests' rings run at the same time: only this ring's spans count.
        var traced = spans.Where(s => (string?)s.GetTagItem("plateau.job_id") == ring.JobId).ToList();
        Assert.Equal([1L, 1L, 4L, 4L, 7L, 7L], traced.Select(s => (long)s.GetTagItem("plateau.collective.sequence")!).Order());
        Assert.All(traced, s =>
        {
            Assert.Equal(CollectiveTracing.SpanName, s.OperationName);
            Assert.Equal("AllReduce", s.GetTagItem("plateau.collective.op"));
            Assert.Equal(4000L, s.GetTagItem("plateau.collective.bytes"));
            Assert.Equal(ActivityStatusCode.Unset, s.Status);
        });
        Assert.Equal([0, 0, 0, 1, 1, 1], traced.Select(s => (int)s.GetTagItem("plateau.rank")!).Order());
    }

    [Fact]
    public void ZeroMeansNoSpansAndANegativeSettingIsRefusedNamingIt()
    {
        Assert.False(CollectiveTracing.Sampled(1, 0));
        Assert.True(CollectiveTracing.Sampled(1, 100));
        Assert.False(CollectiveTracing.Sampled(100, 100));
        Assert.True(CollectiveTracing.Sampled(101, 100));
        var failures = new RingOptionsValidator().Validate(null, new RingOptions
        {
            JobId = "j", WorldSize = 1, Peers = ["http://127.0.0.1:1"], Secret = new byte[32], TraceEveryNthOperation = -1,
        }).Failures;
        Assert.Contains(failures!, f => f.StartsWith("RingOptions.TraceEveryNthOperation must be ≥ 0", StringComparison.Ordinal));
    }
}
