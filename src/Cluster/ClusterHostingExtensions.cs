using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Connections.Security;
using Orleans.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Plateau.Cluster.Placement;
using Plateau.Cluster.Reminders;
using Plateau.Contracts.Workers;

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

    /// <summary>
    /// Joins this silo to the Plateau cluster named by the <c>Plateau:Cluster</c> section, with the reminder
    /// service every silo must run (Orleans hands a grain's reminder to the silo owning the grain's hash): the
    /// ADO.NET reminder table with AdoNet, the coordinator's reminder table with Localhost (docs/state.md).
    /// </summary>
    public static ISiloBuilder UsePlateauCluster(this ISiloBuilder silo, IConfiguration configuration) =>
        silo.UsePlateauCluster(configuration, Environment.GetEnvironmentVariable, File.Exists);

    /// <summary>As above, with the pod's environment and files Kubernetes hosting is checked against given (tests).</summary>
    internal static ISiloBuilder UsePlateauCluster(this ISiloBuilder silo, IConfiguration configuration, Func<string, string?> variable, Func<string, bool> fileExists)
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
                // The table is the coordinator's file; the coordinator replaces this with the file itself.
                silo.AddReminders();
                silo.Services.AddSingleton<CoordinatorReminderTable>();
                silo.Services.AddSingleton<IReminderTable>(services => services.GetRequiredService<CoordinatorReminderTable>());
                silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services => services.GetRequiredService<CoordinatorReminderTable>());
                break;
            case ClusteringProvider.AdoNet:
                silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (options.ClusterId, options.ServiceId))
                    .ConfigureEndpoints(AdvertisedAddress(options), options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true)
                    .UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = (options.AdoNetInvariant, options.AdoNetConnectionString!))
                    .UseAdoNetReminderService(o => (o.Invariant, o.ConnectionString) = (options.AdoNetInvariant, options.AdoNetConnectionString!));
                if (options.KubernetesHosting)
                {
                    UseKubernetesHosting(silo, options, variable, fileExists);
                }

                break;
        }

        if (ClusterTls(options) is { } tls)
        {
            silo.UseTls(tls.Certificate, tls.Configure);
        }

        // Every silo may place a WorkerGrain (the coordinator's JobGrain calls them first after a restart).
        silo.AddPlacementDirector<OwningWorkerPlacement, OwningWorkerPlacementDirector>();
        return silo;
    }

    /// <summary>Connects an Orleans client (tools, tests) to the cluster named by <c>Plateau:Cluster</c>.</summary>
    public static IClientBuilder UsePlateauCluster(this IClientBuilder client, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(client);
        var options = configuration.ReadPlateauClusterOptions();
        client = options.Provider switch
        {
            ClusteringProvider.AdoNet => client
                .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (options.ClusterId, options.ServiceId))
                .UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = (options.AdoNetInvariant, options.AdoNetConnectionString!)),
            _ => client.UseLocalhostClustering(options.GatewayPort, options.ServiceId, options.ClusterId),
        };
        if (ClusterTls(options) is { } tls)
        {
            client.UseTls(tls.Certificate, tls.Configure);
        }

        return client;
    }

    /// <summary>
    /// Mutual TLS for the cluster's connections: both ends present a certificate, and each accepts the other's
    /// only if it is the same certificate (shared cluster certificate) or chains to the configured CA.
    /// </summary>
    private static (X509Certificate2 Certificate, Action<TlsOptions> Configure)? ClusterTls(PlateauClusterOptions options)
    {
        if (string.IsNullOrEmpty(options.TlsCertificatePath))
        {
            return null;
        }

        var certificate = X509CertificateLoader.LoadPkcs12FromFile(options.TlsCertificatePath, options.TlsCertificatePassword);
        var trusted = string.IsNullOrEmpty(options.TlsTrustedCertificatePath)
            ? null
            : X509CertificateLoader.LoadCertificateFromFile(options.TlsTrustedCertificatePath);
        return (certificate, tls =>
        {
            tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
            tls.RemoteCertificateValidation = (remote, _, _) => ClusterTrusts(certificate, trusted, remote);
        });
    }

    private static bool ClusterTrusts(X509Certificate2 own, X509Certificate2? trusted, X509Certificate2? remote)
    {
        if (remote is null)
        {
            return false;
        }

        if (trusted is null)
        {
            return remote.RawDataMemory.Span.SequenceEqual(own.RawDataMemory.Span);
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(remote);
    }

    /// <summary>
    /// Orleans' Kubernetes hosting, after the pod's variables were checked (it would otherwise fall back to the machine name
    /// and let ORLEANS_CLUSTER_ID override the configured cluster silently). Its endpoint options only fill what is unset,
    /// so the advertised address stays <see cref="AdvertisedAddress"/>'s.
    /// </summary>
    private static void UseKubernetesHosting(ISiloBuilder silo, PlateauClusterOptions options, Func<string, string?> variable, Func<string, bool> fileExists)
    {
        var problems = KubernetesPodEnvironment.Problems(options, variable, fileExists);
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(PlateauClusterOptions.SectionName, typeof(PlateauClusterOptions), problems);
        }

        // A silo Orleans declares dead stops its own process and the StatefulSet restarts the pod, so pods are never
        // deleted and the ServiceAccount needs no delete right (KubernetesPodEnvironment.PodVerbs).
        silo.UseKubernetesHosting(hosting => hosting.Configure(o => o.DeleteDefunctSiloPods = false));
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
