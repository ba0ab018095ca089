using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Plateau.ServiceDefaults;
using Plateau.ServiceDefaults.Telemetry;

namespace Plateau.Coordinator.Tests.Telemetry;

public sealed class TelemetryOptionsTests
{
    [Theory]
    [InlineData("-1", "loopback", "Plateau:Telemetry:MetricsPort must be 0 (no endpoint) or a port 1-65535, got -1")]
    [InlineData("70000", "loopback", "Plateau:Telemetry:MetricsPort must be 0 (no endpoint) or a port 1-65535, got 70000")]
    [InlineData("9464", "0.0.0.0", "Plateau:Telemetry:MetricsListenAddress must be 'loopback' or 'any', got '0.0.0.0'")]
    public void AHostWithABadMetricsSettingStopsAtStartNamingTheSetting(string port, string address, string message)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plateau:Telemetry:MetricsPort"] = port,
            ["Plateau:Telemetry:MetricsListenAddress"] = address,
        });

        var problem = Assert.Throws<OptionsValidationException>(() => builder.AddServiceDefaults());

        Assert.Equal(message, Assert.Single(problem.Failures));
    }

    [Fact]
    public void ALongAddressIsShortenedInTheMessage()
    {
        var result = new TelemetryOptionsValidator().Validate(null, new TelemetryOptions { MetricsListenAddress = new string('x', 500) });

        Assert.True(result.Failed);
        Assert.Contains(new string('x', 40) + "…'", result.FailureMessage, StringComparison.Ordinal);
        Assert.True(result.FailureMessage.Length < 200);
    }

    [Fact]
    public async Task AHostWithAMetricsPortServesThePlateauMeterThere()
    {
        var port = FreePort();
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Plateau:Telemetry:MetricsPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        using var host = builder.AddServiceDefaults().Build();
        await host.StartAsync();
        try
        {
            PlateauMetrics.Steps.Add(1, PlateauMetrics.RankTags("options-test", 3, "h"));
            using var http = new HttpClient();
            var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));

            Assert.Contains("plateau_train_steps_total{", text, StringComparison.Ordinal);
            Assert.Contains("job_id=\"options-test\"", text, StringComparison.Ordinal);
            Assert.Contains("# TYPE dotnet_gc_collections_total counter", text, StringComparison.Ordinal);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
