using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Plateau.Worker.Hosting;

/// <summary>Readiness: a worker is ready once its collective endpoints listen, so peers can dial it.</summary>
public sealed class DataPlaneHealthCheck(WorkerDataPlane dataPlane) : IHealthCheck
{
    public const string Name = "data-plane";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(dataPlane.IsListening
            ? HealthCheckResult.Healthy("collective endpoints listening")
            : HealthCheckResult.Unhealthy("collective endpoints not started"));
}
