using Xunit.Abstractions;

namespace Plateau.Worker.Tests.EndToEnd;

/// <summary>
/// A <c>plateau local</c> run exports its spans over OTLP (the standard variables, inherited by its
/// coordinator and worker processes) to a test collector: each epoch is one trace across the coordinator
/// and both workers, the ranks' epoch spans are children of the coordinator's plan span, and the sampled
/// collective spans sit under the ranks' epoch spans.
/// </summary>
[Trait("Category", "Slow")]
[Collection(LocalRunsTakeTurns.Name)]
public sealed class LocalTraceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task EachEpochIsOneTraceAcrossTheCoordinatorAndBothWorkersDeliveredOverOtlp()
    {
        await using var collector = await OtlpCollector.StartAsync();
        var environment = new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Address,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc",
            ["PLATEAU_Plateau__Worker__CollectiveTraceEveryNthOperation"] = "1",
        };
        using var run = LocalRun.Start(Path.Combine(Path.GetTempPath(), "plateau-local-trace-" + Guid.NewGuid().ToString("N")[..8]), environment,
            "--workers", "2", "--model", "resnet20_cifar", "--epochs", "2", "--batch", "64", "--synthetic-train", "512", "--synthetic-val", "64");
        Assert.Equal(0, await run.WaitForExitAsync(TimeSpan.FromMinutes(6)));

        // The processes flush their exporters as they stop; allow the last batches a moment to land.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && !collector.Spans.Any(s => s.Name == "plateau.epoch" && s.Tags.GetValueOrDefault("plateau.epoch") == "1"))
        {
            await Task.Delay(200);
        }

        var spans = collector.Spans.ToList();
        output.WriteLine(string.Join('\n', spans.GroupBy(s => (s.Service, s.Name)).Select(g => $"{g.Key.Service} {g.Key.Name}: {g.Count()}")));
        foreach (var epoch in new[] { "0", "1" })
        {
            var plan = Assert.Single(spans, s => s.Service == "plateau-coordinator" && s.Name == "plateau.epoch.plan" && s.Tags.GetValueOrDefault("plateau.epoch") == epoch);
            var ranks = spans.Where(s => s.Service == "plateau-worker" && s.Name == "plateau.epoch" && s.Tags.GetValueOrDefault("plateau.epoch") == epoch).ToList();
            Assert.Equal(["0", "1"], ranks.Select(s => s.Tags["rank"]).Order());
            Assert.Equal(["worker-0", "worker-1"], ranks.Select(s => s.ServiceInstance).Order());
            Assert.All(ranks, s => Assert.Equal((plan.TraceId, plan.SpanId), (s.TraceId, s.ParentSpanId)));
            Assert.All(ranks, rank => Assert.Contains(spans, c => c.Name == "plateau.collective" && c.ParentSpanId == rank.SpanId && c.TraceId == plan.TraceId));
        }
    }
}
