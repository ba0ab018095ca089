using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;

namespace Plateau.Cluster;

/// <summary>Readiness of a silo: it is Active in the cluster's membership (joined, not yet shutting down).</summary>
public sealed class SiloActiveHealthCheck(IClusterMembershipService membership, ILocalSiloDetails silo) : IHealthCheck
{
    public const string Name = "orleans-silo";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"silo {silo.SiloAddress} is active")
            : HealthCheckResult.Unhealthy($"silo {silo.SiloAddress} is {status}"));
    }
}
