using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Plateau.ServiceDefaults.Telemetry;

namespace Plateau.Coordinator.Tests.Telemetry;

/// <summary>
/// PlateauMetrics.PrometheusName (what the dashboards and docs rely on) against the real exporter: every
/// instrument of the Plateau meter is recorded once and scraped from a live Prometheus endpoint.
/// </summary>
public sealed class PrometheusNamesTests
{
    [Fact]
    public async Task EveryPlateauInstrumentIsScrapedUnderItsDocumentedPrometheusName()
    {
        var instruments = RegisteredInstruments.Of(PlateauMetrics.MeterName);
        Assert.True(instruments.Count >= 30, $"only {instruments.Count} Plateau instruments were published");
        var port = FreePort();
        using var provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(PlateauMetrics.MeterName)
            .AddPrometheusHttpListener(o =>
            {
                o.Host = "127.0.0.1";
                o.Port = port;
            })
            .Build();
        var tags = PlateauMetrics.RankTags("names-test", 0, "test-host");
        foreach (var instrument in instruments)
        {
            switch (instrument)
            {
                case Counter<long> counter: counter.Add(1, tags); break;
                case Histogram<double> histogram: histogram.Record(0.5, tags); break;
                case Gauge<double> gauge: gauge.Record(0.5, tags); break;
                case Gauge<long> gauge: gauge.Record(1, tags); break;
                default: Assert.Fail($"{instrument.Name}: a {instrument.GetType().Name} — teach this test to record it"); break;
            }
        }

        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
        var exported = text.Split('\n')
            .Where(l => l.StartsWith("# TYPE plateau_", StringComparison.Ordinal))
            .Select(l => l.Split(' ')[2])
            .ToHashSet();
        var documented = instruments.Select(PlateauMetrics.PrometheusName).ToHashSet();
        Assert.Equal(documented.Order(), exported.Order());
        foreach (var histogram in instruments.Where(PlateauMetrics.IsHistogram))
        {
            Assert.Contains(PlateauMetrics.PrometheusName(histogram) + "_bucket{", text, StringComparison.Ordinal);
        }

        Assert.Contains("job_id=\"names-test\"", text, StringComparison.Ordinal);
        Assert.Contains("rank=\"0\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public void InstrumentNamesAreUniqueAndEveryOneHasAUnitAndADescription()
    {
        var instruments = RegisteredInstruments.Of(PlateauMetrics.MeterName);
        Assert.Equal(instruments.Count, instruments.Select(i => i.Name).Distinct().Count());
        Assert.All(instruments, i =>
        {
            Assert.False(string.IsNullOrEmpty(i.Unit), $"{i.Name} has no unit");
            Assert.False(string.IsNullOrEmpty(i.Description), $"{i.Name} has no description");
            Assert.StartsWith("plateau.", i.Name, StringComparison.Ordinal);
        });
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
