using System.Net;
using Orleans.Hosting.Kubernetes;

namespace Plateau.Cluster;

/// <summary>
/// What Orleans' Kubernetes hosting (<see cref="PlateauClusterOptions.KubernetesHosting"/>) reads from the pod, and what it
/// asks of the Kubernetes API: the manifests set these variables from the downward API and grant these verbs, and
/// tests/Plateau.Deploy.Tests compares both with this class.
/// </summary>
public static class KubernetesPodEnvironment
{
    /// <summary>The pod's name (downward API <c>metadata.name</c>): the silo's name, matched against the pod list.</summary>
    public const string PodName = KubernetesHostingOptions.PodNameEnvironmentVariable;

    /// <summary>The pod's namespace (<c>metadata.namespace</c>), where the silo pods are listed and watched.</summary>
    public const string PodNamespace = KubernetesHostingOptions.PodNamespaceEnvironmentVariable;

    /// <summary>The pod's IP (<c>status.podIP</c>); it must agree with <c>Plateau:Cluster:AdvertisedAddress</c>.</summary>
    public const string PodIp = KubernetesHostingOptions.PodIPEnvironmentVariable;

    /// <summary>Orleans would take the cluster id from this variable over the configured one; it must agree or be unset.</summary>
    public const string ClusterId = KubernetesHostingOptions.ClusterIdEnvironmentVariable;

    /// <summary>As <see cref="ClusterId"/>, for the service id.</summary>
    public const string ServiceId = KubernetesHostingOptions.ServiceIdEnvironmentVariable;

    /// <summary>The pod labels the silo agent selects silo pods by; the pod templates carry them with the configured ids.</summary>
    public const string ClusterIdLabel = KubernetesHostingOptions.ClusterIdLabel;

    /// <summary>As <see cref="ClusterIdLabel"/>, for the service id.</summary>
    public const string ServiceIdLabel = KubernetesHostingOptions.ServiceIdLabel;

    /// <summary>The ServiceAccount token the in-cluster Kubernetes client authenticates with.</summary>
    public const string ServiceAccountTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token";

    /// <summary>
    /// The verbs on core <c>pods</c> the silo agent of Orleans 10.4.2 uses: get its own pod and patch the cluster labels
    /// onto it at start, list the silo pods, watch them for deletions. No delete: defunct silos' pods are left to the
    /// StatefulSet (<c>DeleteDefunctSiloPods</c> is off).
    /// </summary>
    public static IReadOnlyList<string> PodVerbs { get; } = ["get", "patch", "list", "watch"];

    /// <summary>Everything that keeps Kubernetes hosting from running as configured, each naming the variable or setting.</summary>
    public static IReadOnlyList<string> Problems(PlateauClusterOptions options, Func<string, string?> variable, Func<string, bool> fileExists)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(variable);
        ArgumentNullException.ThrowIfNull(fileExists);
        const string Setting = $"{PlateauClusterOptions.SectionName}:KubernetesHosting";
        var problems = new List<string>();
        foreach (var (name, field) in new[] { (PodName, "metadata.name"), (PodNamespace, "metadata.namespace") })
        {
            if (string.IsNullOrWhiteSpace(variable(name)))
            {
                problems.Add($"{Setting} is true but {name} is not set: give the container {name} from the downward API (fieldRef {field})");
            }
        }

        if (variable(PodIp) is { Length: > 0 } podIp && options.AdvertisedAddress is { } advertised
            && !(IPAddress.TryParse(podIp, out var ip) && ip.Equals(IPAddress.Parse(advertised))))
        {
            problems.Add($"{PodIp} '{podIp}' differs from {PlateauClusterOptions.SectionName}:AdvertisedAddress '{advertised}': both must be the pod's IP (status.podIP)");
        }

        foreach (var (name, key, configured) in new[] { (ClusterId, "ClusterId", options.ClusterId), (ServiceId, "ServiceId", options.ServiceId) })
        {
            if (variable(name) is { Length: > 0 } value && value != configured)
            {
                problems.Add($"{name} '{value}' differs from {PlateauClusterOptions.SectionName}:{key} '{configured}': Orleans' Kubernetes hosting would use it; leave it unset or make them equal");
            }
        }

        if (!fileExists(ServiceAccountTokenPath))
        {
            problems.Add($"{Setting} is true but the pod has no ServiceAccount token at {ServiceAccountTokenPath}: the silo lists and watches pods, so set automountServiceAccountToken: true");
        }

        return problems;
    }
}
