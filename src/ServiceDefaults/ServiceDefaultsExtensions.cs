using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Plateau.ServiceDefaults.Telemetry;

namespace Plateau.ServiceDefaults;

/// <summary>OpenTelemetry and health checks for every Plateau host (coordinator and workers).</summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Activity sources and meters of Plateau's own code start with this prefix.</summary>
    public const string PlateauTelemetryPrefix = "Plateau.";

    /// <summary>Every health check (readiness).</summary>
    public const string HealthPath = "/health";

    /// <summary>Liveness checks only: those tagged <see cref="LiveTag"/>.</summary>
    public const string AlivePath = "/alive";

    public const string LiveTag = "live";

    /// <summary>Prometheus scrape endpoint of the host's metrics.</summary>
    public const string MetricsPath = "/metrics";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddMeter("Microsoft.Orleans")
                .AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http")
                .AddMeter(PlateauMetrics.MeterName, PlateauTelemetryPrefix + "*")
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                .AddSource("Microsoft.AspNetCore", "System.Net.Http")
                .AddSource(PlateauActivities.SourceName, PlateauTelemetryPrefix + "*"));

        // Besides /metrics on the host's HTTP (health) port, a standalone scrape listener on its own port
        // (Plateau:Telemetry:MetricsPort): plateau local runs every process with no health port and gives
        // each one of these instead.
        var telemetry = builder.Configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var problems = new TelemetryOptionsValidator().Validate(null, telemetry);
        if (problems.Failed)
        {
            throw new OptionsValidationException(TelemetryOptions.SectionName, typeof(TelemetryOptions), problems.Failures);
        }

        if (telemetry.MetricsPort != 0)
        {
            var host = telemetry.MetricsListenAddress == "any" ? "*" : "127.0.0.1";
            builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddPrometheusHttpListener(listener =>
            {
                listener.Host = host;
                listener.Port = telemetry.MetricsPort;
            }));
        }

        // Export only where a collector is configured (OTEL_EXPORTER_OTLP_ENDPOINT), as in eShop.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    /// <summary><c>/health</c> (every check), <c>/alive</c> (liveness checks only) and <c>/metrics</c> (Prometheus).</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapHealthChecks(HealthPath);
        app.MapHealthChecks(AlivePath, new HealthCheckOptions { Predicate = check => check.Tags.Contains(LiveTag) });
        app.MapPrometheusScrapingEndpoint(MetricsPath);
        return app;
    }

    /// <summary>
    /// For a host without HTTP of its own: serves <c>/health</c>, <c>/alive</c> and <c>/metrics</c> from this host's health
    /// checks on <paramref name="listenAddress"/>:<paramref name="port"/> (see <see cref="HealthEndpointServer"/>).
    /// </summary>
    public static TBuilder AddHealthEndpoint<TBuilder>(this TBuilder builder, string listenAddress, int port) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton(new HealthEndpointOptions(listenAddress, port));
        builder.Services.AddSingleton<HealthEndpointServer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<HealthEndpointServer>());
        return builder;
    }
}
