using System.Net;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Plateau.Cluster;

namespace Plateau.Deploy.Tests;

/// <summary>
/// Orleans' Kubernetes hosting (Plateau:Cluster:KubernetesHosting): both silo StatefulSets turn it on, give it the pod
/// variables <see cref="KubernetesPodEnvironment"/> names from the downward API, carry the labels its pod watch selects
/// on, and run as ServiceAccounts with a token and the pod verbs it uses. No API server runs here: what the silo agent
/// does with them in a cluster is untested.
/// </summary>
public sealed class KubernetesHostingTests
{
    public static TheoryData<string, string, string> Silos => new()
    {
        { "cpu-dev", "plateau-coordinator", "coordinator" },
        { "cpu-dev", "plateau-worker", "worker" },
        { "gpu", "plateau-coordinator", "coordinator" },
        { "gpu", "plateau-worker", "worker" },
    };

    [Theory]
    [MemberData(nameof(Silos))]
    public void Every_silo_turns_Kubernetes_hosting_on_with_the_pod_variables_from_the_downward_API(string name, string set, string container)
    {
        var overlay = Overlay.Render(name);
        var statefulSet = overlay.One<V1StatefulSet>(set);
        var env = ContainerSettings.Environment(overlay, statefulSet, ContainerSettings.Container(statefulSet, container));
        var cluster = Cluster(env);

        Assert.True(cluster.KubernetesHosting, $"{set}: Plateau:Cluster:KubernetesHosting is not true");
        Assert.Equal("metadata.name", FieldPath(statefulSet, container, KubernetesPodEnvironment.PodName));
        Assert.Equal("metadata.namespace", FieldPath(statefulSet, container, KubernetesPodEnvironment.PodNamespace));
        Assert.Equal("status.podIP", FieldPath(statefulSet, container, KubernetesPodEnvironment.PodIp));
        // The advertised address the silo keeps is the same pod IP.
        Assert.Equal(FieldPath(statefulSet, container, KubernetesPodEnvironment.PodIp), FieldPath(statefulSet, container, "PLATEAU_Plateau__Cluster__AdvertisedAddress"));
        Assert.Empty(KubernetesPodEnvironment.Problems(cluster, v => env.GetValueOrDefault(v), _ => true));
    }

    [Theory]
    [MemberData(nameof(Silos))]
    public void Every_silo_pod_carries_the_labels_the_pod_watch_selects_with_the_configured_cluster_ids(string name, string set, string container)
    {
        var overlay = Overlay.Render(name);
        var statefulSet = overlay.One<V1StatefulSet>(set);
        var cluster = Cluster(ContainerSettings.Environment(overlay, statefulSet, ContainerSettings.Container(statefulSet, container)));
        var labels = statefulSet.Spec.Template.Metadata.Labels;

        Assert.Equal(cluster.ClusterId, labels[KubernetesPodEnvironment.ClusterIdLabel]);
        Assert.Equal(cluster.ServiceId, labels[KubernetesPodEnvironment.ServiceIdLabel]);
    }

    [Theory]
    [MemberData(nameof(Silos))]
    public void Every_silo_runs_with_a_token_that_may_use_exactly_the_pod_verbs_the_silo_agent_needs(string name, string set, string container)
    {
        var overlay = Overlay.Render(name);
        var statefulSet = overlay.One<V1StatefulSet>(set);
        Assert.NotNull(ContainerSettings.Container(statefulSet, container));
        var pod = statefulSet.Spec.Template.Spec;
        var account = overlay.One<V1ServiceAccount>(pod.ServiceAccountName);
        Assert.NotEqual(false, pod.AutomountServiceAccountToken);
        Assert.NotEqual(false, account.AutomountServiceAccountToken);

        var verbs = overlay.All<V1RoleBinding>()
            .Where(b => b.Subjects.Any(s => s.Kind == "ServiceAccount" && s.Name == account.Metadata.Name))
            .Select(b => overlay.One<V1Role>(b.RoleRef.Name))
            .SelectMany(r => r.Rules)
            .Where(r => r.ApiGroups.Contains("") && r.Resources.Contains("pods"))
            .SelectMany(r => r.Verbs)
            .ToHashSet();

        Assert.Equal(KubernetesPodEnvironment.PodVerbs.Order(StringComparer.Ordinal), verbs.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Kubernetes_hosting_without_the_PostgreSQL_membership_table_is_refused_naming_both_settings()
    {
        var result = new PlateauClusterOptionsValidator().Validate(null, new PlateauClusterOptions { KubernetesHosting = true });

        var failure = Assert.Single(result.Failures ?? []);
        Assert.Contains("Plateau:Cluster:KubernetesHosting needs Plateau:Cluster:Provider AdoNet", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pod_without_its_name_namespace_or_token_is_refused_naming_each_variable_and_field()
    {
        var problems = KubernetesPodEnvironment.Problems(Hosted(), _ => null, _ => false);

        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.Contains("POD_NAME is not set", StringComparison.Ordinal) && p.Contains("fieldRef metadata.name", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("POD_NAMESPACE is not set", StringComparison.Ordinal) && p.Contains("fieldRef metadata.namespace", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains(KubernetesPodEnvironment.ServiceAccountTokenPath, StringComparison.Ordinal) && p.Contains("automountServiceAccountToken", StringComparison.Ordinal));
    }

    [Fact]
    public void An_Orleans_cluster_id_or_pod_IP_that_disagrees_with_the_Plateau_settings_is_refused_instead_of_silently_winning()
    {
        var env = new Dictionary<string, string>
        {
            [KubernetesPodEnvironment.PodName] = "plateau-worker-0",
            [KubernetesPodEnvironment.PodNamespace] = "plateau",
            [KubernetesPodEnvironment.PodIp] = "10.0.0.9",
            [KubernetesPodEnvironment.ClusterId] = "other",
            [KubernetesPodEnvironment.ServiceId] = "plateau",
        };

        var problems = KubernetesPodEnvironment.Problems(Hosted(), v => env.GetValueOrDefault(v), _ => true);

        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("ORLEANS_CLUSTER_ID 'other' differs from Plateau:Cluster:ClusterId 'plateau'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("POD_IP '10.0.0.9' differs from Plateau:Cluster:AdvertisedAddress '10.0.0.1'", StringComparison.Ordinal));
    }

    [Fact]
    public void A_hosted_silo_is_named_after_its_pod_and_keeps_the_configured_address_and_cluster_ids()
    {
        // Orleans' hosting reads the process's own variables: a POD_IP other than the configured address shows which wins.
        var process = new Dictionary<string, string?>
        {
            [KubernetesPodEnvironment.PodName] = "plateau-worker-3",
            [KubernetesPodEnvironment.PodNamespace] = "plateau",
            [KubernetesPodEnvironment.PodIp] = "10.9.9.9",
        };
        var saved = process.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var (name, value) in process)
            {
                Environment.SetEnvironmentVariable(name, value);
            }

            var builder = Host.CreateApplicationBuilder();
            builder.UseOrleans(silo => silo.UsePlateauCluster(HostedConfiguration(), v => v == KubernetesPodEnvironment.PodIp ? null : process.GetValueOrDefault(v), _ => true));
            using var host = builder.Build();

            Assert.Equal(IPAddress.Parse("10.0.0.1"), host.Services.GetRequiredService<IOptions<EndpointOptions>>().Value.AdvertisedIPAddress);
            Assert.Equal("plateau-worker-3", host.Services.GetRequiredService<IOptions<SiloOptions>>().Value.SiloName);
            var cluster = host.Services.GetRequiredService<IOptions<ClusterOptions>>().Value;
            Assert.Equal(("cluster-a", "service-a"), (cluster.ClusterId, cluster.ServiceId));
        }
        finally
        {
            foreach (var (name, value) in saved)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }

    [Fact]
    public void A_silo_with_Kubernetes_hosting_outside_a_pod_does_not_start_and_names_what_is_missing()
    {
        var builder = Host.CreateApplicationBuilder();

        var error = Assert.Throws<OptionsValidationException>(() => builder.UseOrleans(silo => silo.UsePlateauCluster(HostedConfiguration(), _ => null, _ => false)));

        Assert.Contains("POD_NAME is not set", error.Message, StringComparison.Ordinal);
        Assert.Contains(KubernetesPodEnvironment.ServiceAccountTokenPath, error.Message, StringComparison.Ordinal);
    }

    private static IConfiguration HostedConfiguration() => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Plateau:Cluster:Provider"] = "AdoNet",
        ["Plateau:Cluster:KubernetesHosting"] = "true",
        ["Plateau:Cluster:AdvertisedAddress"] = "10.0.0.1",
        ["Plateau:Cluster:ClusterId"] = "cluster-a",
        ["Plateau:Cluster:ServiceId"] = "service-a",
        ["Plateau:Cluster:AdoNetConnectionString"] = ContainerSettings.ExternalConnectionString,
    }).Build();

    private static PlateauClusterOptions Hosted() => new()
    {
        Provider = ClusteringProvider.AdoNet,
        KubernetesHosting = true,
        AdvertisedAddress = "10.0.0.1",
        AdoNetConnectionString = ContainerSettings.ExternalConnectionString,
    };

    private static PlateauClusterOptions Cluster(IReadOnlyDictionary<string, string> environment)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(ContainerSettings.Configuration(environment)).Build();
        var options = new PlateauClusterOptions();
        configuration.GetSection(PlateauClusterOptions.SectionName).Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        return options;
    }

    private static string? FieldPath(V1StatefulSet set, string container, string variable) =>
        ContainerSettings.Container(set, container).Env.SingleOrDefault(e => e.Name == variable)?.ValueFrom?.FieldRef?.FieldPath;
}
