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

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
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
                .AddRuntimeInstrumentation())
            .WithTracing(tracing => tracing
                .AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                .AddSource("Microsoft.AspNetCore", "System.Net.Http")
                .AddSource(PlateauActivities.SourceName, PlateauTelemetryPrefix + "*"));

        // The Prometheus scrape endpoint (Plateau:Telemetry:MetricsPort), on every process: a standalone
        // listener, so workers (no Kestrel of their own) and the coordinator serve it the same way.
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

    /// <summary><c>/health</c> (every check) and <c>/alive</c> (liveness checks only).</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapHealthChecks("/health");
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = check => check.Tags.Contains("live") });
        return app;
    }
}
