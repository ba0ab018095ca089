using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Plateau.ServiceDefaults;

namespace Plateau.Deploy.Tests;

/// <summary>The health endpoint a host without HTTP (the worker) serves for its Kubernetes probes.</summary>
public sealed class HealthEndpointServerTests
{
    [Fact]
    public async Task A_failing_readiness_check_makes_health_503_while_alive_stays_200_and_metrics_are_scraped()
    {
        var ready = false;
        var builder = Host.CreateApplicationBuilder();
        builder.AddServiceDefaults().AddHealthEndpoint("127.0.0.1", 0);
        builder.Services.AddHealthChecks().AddCheck("ready", () => ready ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("not yet"));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var address = host.Services.GetRequiredService<HealthEndpointServer>().Address!;
            using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };

            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(ServiceDefaultsExtensions.AlivePath)).StatusCode);
            var health = await http.GetAsync(ServiceDefaultsExtensions.HealthPath);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.Equal("Unhealthy", await health.Content.ReadAsStringAsync());

            ready = true;
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(ServiceDefaultsExtensions.HealthPath)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/other")).StatusCode);

            using var meter = new Meter("Plateau.DeployTests");
            meter.CreateCounter<long>("plateau.deploy_tests.hits").Add(3);
            var metrics = await http.GetAsync(ServiceDefaultsExtensions.MetricsPath);
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            Assert.Contains("plateau_deploy_tests_hits_total", await metrics.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
