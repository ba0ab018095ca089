using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace Plateau.ServiceDefaults;

/// <summary>
/// <c>/health</c>, <c>/alive</c> and <c>/metrics</c> for a host that serves no HTTP of its own (the
/// worker): a small Kestrel server on its own port answering from the host's health checks and meter
/// provider, as a web host does with <see cref="ServiceDefaultsExtensions.MapDefaultEndpoints"/>.
/// </summary>
public sealed partial class HealthEndpointServer(HealthCheckService checks, MeterProvider meters, HealthEndpointOptions options, ILogger<HealthEndpointServer> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>The address it listens on once started (the port chosen when <see cref="HealthEndpointOptions.Port"/> is 0).</summary>
    public Uri? Address { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Parse(options.ListenAddress), options.Port, listen => listen.Protocols = HttpProtocols.Http1));
        var app = builder.Build();
        app.MapGet(ServiceDefaultsExtensions.HealthPath, context => Answer(context, _ => true));
        app.MapGet(ServiceDefaultsExtensions.AlivePath, context => Answer(context, check => check.Tags.Contains(ServiceDefaultsExtensions.LiveTag)));
        app.MapPrometheusScrapingEndpoint(ServiceDefaultsExtensions.MetricsPath, meters, configureBranchedPipeline: null, optionsName: null);
        await app.StartAsync(cancellationToken);
        _app = app;
        Address = new Uri(app.Urls.First());
        LogListening(logger, Address);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is { } app)
        {
            await app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _app, null) is { } app)
        {
            await app.DisposeAsync();
        }
    }

    // The same answer as ASP.NET Core's health check middleware: 200 "Healthy"/"Degraded", 503 "Unhealthy".
    private async Task Answer(HttpContext context, Func<HealthCheckRegistration, bool> predicate)
    {
        var report = await checks.CheckHealthAsync(predicate, context.RequestAborted);
        context.Response.StatusCode = report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        context.Response.Headers.CacheControl = "no-store, no-cache";
        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync(report.Status.ToString(), context.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Health and metrics endpoints at {Address} (health, alive, metrics)")]
    private static partial void LogListening(ILogger logger, Uri address);
}
