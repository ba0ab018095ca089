using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Plateau.Cluster;
using Plateau.Coordinator.Tests.Api;

namespace Plateau.Coordinator.Tests.Hosting;

/// <summary>
/// A silo host joined to a Localhost cluster by <c>UsePlateauCluster</c> alone, as a worker host's silo is (without the
/// worker's grains and trainer), on <paramref name="siloPort"/> and a free gateway port.
/// </summary>
internal static class ClusterSilo
{
    public static IHost Build(string clusterId, int siloPort, int? primarySiloPort = null, string? tlsCertificatePath = null)
    {
        var builder = Host.CreateApplicationBuilder();
        var settings = new Dictionary<string, string?>
        {
            ["Plateau:Cluster:ClusterId"] = clusterId,
            ["Plateau:Cluster:SiloPort"] = siloPort.ToString(CultureInfo.InvariantCulture),
            ["Plateau:Cluster:GatewayPort"] = ApiHost.FreePort().ToString(CultureInfo.InvariantCulture),
        };
        if (primarySiloPort is { } primary)
        {
            settings["Plateau:Cluster:PrimarySiloEndpoint"] = $"127.0.0.1:{primary}";
        }

        if (tlsCertificatePath is not null)
        {
            settings["Plateau:Cluster:TlsCertificatePath"] = tlsCertificatePath;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo => silo.UsePlateauCluster(builder.Configuration));
        return builder.Build();
    }

    /// <summary>The cluster's active silos as soon as there are <paramref name="count"/>, or as they are after <paramref name="within"/>.</summary>
    public static async Task<Dictionary<SiloAddress, SiloStatus>> ActiveSilos(IGrainFactory grains, int count, TimeSpan within)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        var deadline = DateTime.UtcNow + within;
        Dictionary<SiloAddress, SiloStatus> hosts;
        do
        {
            hosts = await management.GetHosts(onlyActive: true);
            await Task.Delay(100);
        }
        while (hosts.Count < count && DateTime.UtcNow < deadline);

        return hosts;
    }
}
