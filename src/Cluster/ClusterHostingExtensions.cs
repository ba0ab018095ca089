using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;

namespace Plateau.Cluster;

public static class ClusterHostingExtensions
{
    /// <summary>Reads and validates <c>Plateau:Cluster</c>; throws naming every bad setting.</summary>
    public static PlateauClusterOptions ReadPlateauClusterOptions(this IConfiguration configuration)
    {
        var options = new PlateauClusterOptions();
        configuration.GetSection(PlateauClusterOptions.SectionName).Bind(options);
        var result = new PlateauClusterOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(PlateauClusterOptions.SectionName, typeof(PlateauClusterOptions), result.Failures);
        }

        return options;
    }

    /// <summary>Joins this silo to the Plateau cluster named by the <c>Plateau:Cluster</c> section.</summary>
    public static ISiloBuilder UsePlateauCluster(this ISiloBuilder silo, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        var options = configuration.ReadPlateauClusterOptions();
        switch (options.Provider)
        {
            case ClusteringProvider.Localhost:
                var primary = options.PrimarySiloEndpoint is { } endpoint
                    ? IPEndPoint.Parse(endpoint)
                    : new IPEndPoint(IPAddress.Loopback, options.SiloPort);
                silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, primary, options.ServiceId, options.ClusterId);
                break;
            case ClusteringProvider.AdoNet:
                silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (options.ClusterId, options.ServiceId))
                    .ConfigureEndpoints(AdvertisedAddress(options), options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true)
                    .UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = (options.AdoNetInvariant, options.AdoNetConnectionString!));
                break;
        }

        return silo;
    }

    /// <summary>Connects an Orleans client (tools, tests) to the cluster named by <c>Plateau:Cluster</c>.</summary>
    public static IClientBuilder UsePlateauCluster(this IClientBuilder client, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(client);
        var options = configuration.ReadPlateauClusterOptions();
        return options.Provider switch
        {
            ClusteringProvider.AdoNet => client
                .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (options.ClusterId, options.ServiceId))
                .UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = (options.AdoNetInvariant, options.AdoNetConnectionString!)),
            _ => client.UseLocalhostClustering(options.GatewayPort, options.ServiceId, options.ClusterId),
        };
    }

    private static IPAddress AdvertisedAddress(PlateauClusterOptions options)
    {
        if (options.AdvertisedAddress is { } text)
        {
            return IPAddress.Parse(text);
        }

        return NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? IPAddress.Loopback;
    }
}
