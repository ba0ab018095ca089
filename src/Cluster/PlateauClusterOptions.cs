namespace Plateau.Cluster;

/// <summary>
/// Configuration section <c>Plateau:Cluster</c>, shared by the coordinator and worker silos. Embedded
/// default: the coordinator listens on SiloPort 11111 / GatewayPort 30000 and is the primary silo;
/// each worker uses its own ports and <c>PrimarySiloEndpoint=127.0.0.1:11111</c>.
/// </summary>
public sealed class PlateauClusterOptions
{
    public const string SectionName = "Plateau:Cluster";

    /// <summary>Localhost (embedded) or AdoNet (PostgreSQL); on the coordinator this also chooses where its
    /// durable grain state lives: local files or the same PostgreSQL database.</summary>
    public ClusteringProvider Provider { get; set; } = ClusteringProvider.Localhost;

    public string ClusterId { get; set; } = "plateau";

    public string ServiceId { get; set; } = "plateau";

    /// <summary>Silo-to-silo port of this process.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Client gateway port of this process (0: no gateway).</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Localhost provider: the primary silo's endpoint (host:port). Defaults to this silo itself.</summary>
    public string? PrimarySiloEndpoint { get; set; }

    /// <summary>AdoNet provider: the address other silos reach this one at (the pod IP). Defaults to a non-loopback address of this host.</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>
    /// AdoNet provider in a Kubernetes pod: Orleans' Kubernetes hosting (<c>UseKubernetesHosting</c>) names the silo after
    /// the pod and watches the namespace's silo pods, declaring a silo dead as soon as its pod is deleted instead of after
    /// the missed-probe deadline. The membership table, cluster ids and advertised address stay as configured here. Needs
    /// the variables of <see cref="KubernetesPodEnvironment"/> from the downward API and a mounted ServiceAccount token
    /// allowed <see cref="KubernetesPodEnvironment.PodVerbs"/> on pods (docs/kubernetes.md). Off by default (outside pods).
    /// </summary>
    public bool KubernetesHosting { get; set; }

    /// <summary>AdoNet provider: ADO.NET invariant name; only "Npgsql" (PostgreSQL) is accepted.</summary>
    public string AdoNetInvariant { get; set; } = "Npgsql";

    /// <summary>AdoNet provider: connection string of the PostgreSQL database holding the membership table
    /// and, on the coordinator, the grain state.</summary>
    public string? AdoNetConnectionString { get; set; }

    /// <summary>
    /// PFX/PKCS#12 certificate (with its key) for TLS on every silo-to-silo and client-to-gateway connection.
    /// Set on every process of the cluster or on none: a silo with TLS and one without cannot talk. Grain
    /// messages carry the per-job collective secret, so a cluster whose silos are not on one trusted host
    /// needs this (docs/security.md).
    /// </summary>
    public string? TlsCertificatePath { get; set; }

    /// <summary>Password of <see cref="TlsCertificatePath"/>, if any.</summary>
    public string? TlsCertificatePassword { get; set; }

    /// <summary>
    /// PEM/DER certificate (a CA) the other silos' certificates must chain to. Empty: they must present the
    /// same certificate as this one (one shared cluster certificate, as plateau local generates).
    /// </summary>
    public string? TlsTrustedCertificatePath { get; set; }
}
