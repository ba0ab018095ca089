using System.Globalization;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using Plateau.Cluster;
using Plateau.Coordinator.Checkpoints;
using Plateau.Coordinator.Configuration;
using Plateau.Coordinator.Hosting;
using Plateau.Coordinator.Security;
using Plateau.Kubernetes;
using Plateau.ServiceDefaults;
using Plateau.Worker.Hosting;

namespace Plateau.Deploy.Tests;

/// <summary>
/// The manifests' settings are read the way the hosts read them and bound to the real options classes
/// (unknown keys are errors), then checked by the hosts' own validators; ports, probe paths, listen
/// addresses and volumes are compared with the bound values.
/// </summary>
public sealed class ConfigurationAgreementTests
{
    public static TheoryData<string> Overlays => [.. Overlay.Names];

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Coordinator_settings_name_real_options_and_pass_the_coordinators_validators(string name)
    {
        var overlay = Overlay.Render(name);
        var (coordinator, checkpoints, cluster) = CoordinatorSettings(overlay);
        var controller = Bind<TrainingJobControllerOptions>(CoordinatorConfiguration(overlay), TrainingJobControllerOptions.SectionName);

        AssertValid(new TrainingJobControllerOptionsValidator().Validate(null, controller));
        Assert.True(controller.Enabled, "the coordinator runs the TrainingJob controller in Kubernetes");
        AssertValid(new CoordinatorOptionsValidator().Validate(null, coordinator));
        var auth = Bind<ApiAuthOptions>(CoordinatorConfiguration(overlay), ApiAuthOptions.SectionName);
        AssertValid(new ApiAuthOptionsValidator().Validate(null, auth));
        Assert.True(auth.Enabled && auth.Tokens.Count == 1, "the coordinator's JobService takes a token from the plateau-api-token Secret");
        AssertValid(new CheckpointStoreOptionsValidator().Validate(null, checkpoints));
        using (var tls = MountedClusterCertificate(overlay, overlay.Coordinator, "coordinator", cluster))
        {
            AssertValid(new PlateauClusterOptionsValidator().Validate(null, tls.Options));
        }

        Assert.Equal(ClusteringProvider.AdoNet, cluster.Provider);
        Assert.Equal(ContainerSettings.PodIp, cluster.AdvertisedAddress);
        Assert.Equal("any", coordinator.ListenAddress);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Worker_settings_name_real_options_and_pass_the_workers_validators(string name)
    {
        var overlay = Overlay.Render(name);
        var (worker, cluster) = WorkerSettings(overlay);

        AssertValid(new WorkerOptionsValidator().Validate(null, worker));
        using (var tls = MountedClusterCertificate(overlay, overlay.Workers, "worker", cluster))
        {
            AssertValid(new PlateauClusterOptionsValidator().Validate(null, tls.Options));
        }

        Assert.Equal(ClusteringProvider.AdoNet, cluster.Provider);
        Assert.Equal("plateau-worker-0", worker.WorkerId);
        Assert.Equal(ContainerSettings.PodIp, worker.DataPlaneAdvertisedHost);
        Assert.Equal(ContainerSettings.PodIp, cluster.AdvertisedAddress);
        Assert.Equal("0.0.0.0", worker.DataPlaneListenHost);
        Assert.NotEqual(0, worker.DataPlanePort);
        Assert.NotEqual(0, worker.HealthPort);
        Assert.False(worker.ExitWhenJobEnds, "a worker pod that exits when its job ends restarts into a job that is over");
        Assert.True(string.IsNullOrEmpty(worker.JobId), "worker pods are pooled: the coordinator's worker pool hands them TrainingJobs");
        Assert.InRange(worker.PoolPollSeconds, 0.1, CoordinatorSettings(overlay).Item1.WorkerPoolLeaseSeconds / 3);
        Assert.Equal("http://plateau-coordinator:5100", worker.CheckpointTransferAddress);
        Assert.Equal(CoordinatorSettings(overlay).Item1.GrpcPort, new Uri(worker.CheckpointTransferAddress!).Port);
        Assert.DoesNotContain(ContainerSettings.Container(overlay.Workers, "worker").VolumeMounts, m => m.MountPath == CoordinatorSettings(overlay).Item2.RootDirectory);
    }

    [Fact]
    public void The_development_cluster_certificate_is_a_PKCS12_file_with_its_private_key()
    {
        var secret = Overlay.Render("cpu-dev").One<V1Secret>(ClusterTlsSecret);
        using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(secret.Data["cluster.pfx"], null);

        Assert.True(certificate.HasPrivateKey);
        Assert.True(certificate.NotAfter > DateTime.UtcNow.AddYears(1), $"the development certificate expires on {certificate.NotAfter:yyyy-MM-dd}");
    }

    [Fact]
    public void A_misspelt_setting_in_a_manifest_is_an_error_not_a_silently_ignored_key()
    {
        var settings = new Dictionary<string, string?> { ["Plateau:Worker:JobId"] = "j", ["Plateau:Worker:Device"] = "8" };

        var error = Assert.Throws<InvalidOperationException>(() => Bind<WorkerOptions>(settings, WorkerOptions.SectionName));
        Assert.Contains("Device", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Coordinator_ports_services_and_probes_agree_with_its_settings(string name)
    {
        var overlay = Overlay.Render(name);
        var (coordinator, _, cluster) = CoordinatorSettings(overlay);
        var container = ContainerSettings.Container(overlay.Coordinator, "coordinator");

        Assert.Equal(coordinator.GrpcPort, Port(container, "grpc"));
        Assert.Equal(coordinator.HealthPort, Port(container, "http"));
        Assert.Equal(cluster.SiloPort, Port(container, "silo"));
        Assert.Equal(cluster.GatewayPort, Port(container, "gateway"));
        AssertProbes(container, coordinator.HealthPort);
        AssertScrape(overlay.Coordinator, coordinator.HealthPort);
        AssertServiceMatches(overlay.One<V1Service>("plateau-coordinator"), container);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Worker_ports_services_and_probes_agree_with_its_settings(string name)
    {
        var overlay = Overlay.Render(name);
        var (worker, cluster) = WorkerSettings(overlay);
        var container = ContainerSettings.Container(overlay.Workers, "worker");

        Assert.Equal(worker.DataPlanePort, Port(container, "data"));
        Assert.Equal(worker.HealthPort, Port(container, "http"));
        Assert.Equal(cluster.SiloPort, Port(container, "silo"));
        Assert.Equal(0, cluster.GatewayPort);
        AssertProbes(container, worker.HealthPort);
        AssertScrape(overlay.Workers, worker.HealthPort);
        var service = overlay.One<V1Service>("plateau-worker");
        Assert.Equal("None", service.Spec.ClusterIP);
        AssertServiceMatches(service, container);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Only_workers_reach_every_data_plane_port_of_a_worker(string name)
    {
        var overlay = Overlay.Render(name);
        var (worker, _) = WorkerSettings(overlay);
        var workerLabels = overlay.Workers.Spec.Template.Metadata.Labels;
        var policy = overlay.One<V1NetworkPolicy>("plateau-worker");
        Assert.Contains("Ingress", policy.Spec.PolicyTypes);

        for (var port = worker.DataPlanePort; port < worker.DataPlanePort + worker.Devices; port++)
        {
            var opening = policy.Spec.Ingress.Where(rule => rule.Ports.Any(p => Covers(p, port))).ToList();
            var rule = Assert.Single(opening);
            Assert.NotNull(rule.FromProperty);
            Assert.All(rule.FromProperty, peer =>
            {
                Assert.Null(peer.IpBlock);
                Assert.Null(peer.NamespaceSelector);
                Assert.True(RenderedOverlayTests.Selects(peer.PodSelector.MatchLabels, workerLabels) && peer.PodSelector.MatchLabels.ContainsKey("app.kubernetes.io/component"),
                    $"data-plane port {port} is open to pods other than workers");
            });
        }

        // The probes still get through.
        Assert.Contains(policy.Spec.Ingress, rule => rule.FromProperty is null && rule.Ports.Any(p => Covers(p, worker.HealthPort)));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Coordinator_state_lives_in_PostgreSQL_and_checkpoints_on_a_persistent_volume(string name)
    {
        var overlay = Overlay.Render(name);
        var (_, checkpoints, cluster) = CoordinatorSettings(overlay);
        var container = ContainerSettings.Container(overlay.Coordinator, "coordinator");
        var claims = overlay.Coordinator.Spec.VolumeClaimTemplates.Select(c => c.Metadata.Name).ToHashSet();

        // Provider AdoNet puts the grain state in PostgreSQL; the host refuses a StateDirectory next to it.
        Assert.Equal(ClusteringProvider.AdoNet, cluster.Provider);
        Assert.DoesNotContain($"{CoordinatorOptions.SectionName}:StateDirectory", CoordinatorConfiguration(overlay).Keys);
        var mount = container.VolumeMounts.SingleOrDefault(m => m.MountPath == checkpoints.RootDirectory);
        Assert.True(mount is not null && claims.Contains(mount.Name), $"{checkpoints.RootDirectory} is not on a PersistentVolumeClaim");
    }

    private const string ClusterTlsSecret = "plateau-cluster-tls";

    /// <summary>
    /// Orleans TLS is on (the collective secret travels in Orleans messages): the certificate path lies in a
    /// read-only volume of the plateau-cluster-tls Secret, whose key names the file. The options come back with
    /// the path changed to a local copy (the overlay's certificate where it generates one) for the validator,
    /// which checks that the file exists.
    /// </summary>
    private static ClusterCertificate MountedClusterCertificate(Overlay overlay, V1StatefulSet set, string containerName, PlateauClusterOptions cluster)
    {
        Assert.False(string.IsNullOrEmpty(cluster.TlsCertificatePath), $"{set.Metadata.Name}: Plateau:Cluster:TlsCertificatePath is not set, so the collective secret crosses the pod network in clear");
        var container = ContainerSettings.Container(set, containerName);
        var folder = Path.GetDirectoryName(cluster.TlsCertificatePath)!;
        var mount = container.VolumeMounts.SingleOrDefault(m => m.MountPath.TrimEnd('/') == folder);
        Assert.True(mount is not null, $"{set.Metadata.Name}: nothing is mounted at {folder}");
        Assert.True(mount.ReadOnlyProperty, $"{set.Metadata.Name}: {folder} is writable");
        var volume = set.Spec.Template.Spec.Volumes.Single(v => v.Name == mount.Name);
        Assert.Equal(ClusterTlsSecret, volume.Secret?.SecretName);
        var file = Path.GetFileName(cluster.TlsCertificatePath);
        var generated = overlay.All<V1Secret>().SingleOrDefault(x => x.Metadata.Name == ClusterTlsSecret);
        if (generated is not null)
        {
            Assert.True(generated.Data.ContainsKey(file), $"the {ClusterTlsSecret} Secret has no key {file}");
        }

        var copy = Path.Combine(Path.GetTempPath(), $"plateau-deploy-{Guid.NewGuid():N}-{file}");
        File.WriteAllBytes(copy, generated?.Data[file] ?? []);
        cluster.TlsCertificatePath = copy;
        return new ClusterCertificate(copy, cluster);
    }

    private sealed record ClusterCertificate(string Path, PlateauClusterOptions Options) : IDisposable
    {
        public void Dispose() => File.Delete(Path);
    }

    private static Dictionary<string, string?> CoordinatorConfiguration(Overlay overlay) =>
        ContainerSettings.Configuration(ContainerSettings.Environment(overlay, overlay.Coordinator, ContainerSettings.Container(overlay.Coordinator, "coordinator")));

    private static (CoordinatorOptions, CheckpointStoreOptions, PlateauClusterOptions) CoordinatorSettings(Overlay overlay)
    {
        var settings = CoordinatorConfiguration(overlay);
        AssertOnlySections(settings, CoordinatorOptions.SectionName, CheckpointStoreOptions.SectionName, PlateauClusterOptions.SectionName, TrainingJobControllerOptions.SectionName, "Plateau:Api");
        return (Bind<CoordinatorOptions>(settings, CoordinatorOptions.SectionName),
            Bind<CheckpointStoreOptions>(settings, CheckpointStoreOptions.SectionName),
            Bind<PlateauClusterOptions>(settings, PlateauClusterOptions.SectionName));
    }

    private static (WorkerOptions, PlateauClusterOptions) WorkerSettings(Overlay overlay)
    {
        var container = ContainerSettings.Container(overlay.Workers, "worker");
        // The worker's built-in defaults sit below everything else, as in AddPlateauWorker.
        var settings = new Dictionary<string, string?>(WorkerHostExtensions.WorkerDefaults, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in ContainerSettings.Configuration(ContainerSettings.Environment(overlay, overlay.Workers, container)))
        {
            settings[key] = value;
        }

        AssertOnlySections(settings, WorkerOptions.SectionName, PlateauClusterOptions.SectionName);
        return (Bind<WorkerOptions>(settings, WorkerOptions.SectionName), Bind<PlateauClusterOptions>(settings, PlateauClusterOptions.SectionName));
    }

    private static T Bind<T>(IReadOnlyDictionary<string, string?> settings, string section) where T : new()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var options = new T();
        configuration.GetSection(section).Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        return options;
    }

    private static void AssertOnlySections(IReadOnlyDictionary<string, string?> settings, params string[] sections)
    {
        foreach (var key in settings.Keys)
        {
            Assert.True(sections.Any(s => key.StartsWith(s + ":", StringComparison.OrdinalIgnoreCase)), $"setting {key} is in no section this host reads ({string.Join(", ", sections)})");
        }
    }

    private static void AssertValid(Microsoft.Extensions.Options.ValidateOptionsResult result) =>
        Assert.False(result.Failed, result.FailureMessage);

    private static int Port(V1Container container, string name) =>
        container.Ports.SingleOrDefault(p => p.Name == name)?.ContainerPort ?? throw new InvalidOperationException($"{container.Name} has no port named {name}");

    private static void AssertProbes(V1Container container, int healthPort)
    {
        Assert.Equal(ServiceDefaultsExtensions.HealthPath, container.ReadinessProbe.HttpGet.Path);
        Assert.Equal(ServiceDefaultsExtensions.AlivePath, container.LivenessProbe.HttpGet.Path);
        Assert.Equal(healthPort, Port(container, container.ReadinessProbe.HttpGet.Port.Value));
        Assert.Equal(healthPort, Port(container, container.LivenessProbe.HttpGet.Port.Value));
    }

    private static void AssertScrape(V1StatefulSet set, int healthPort)
    {
        var annotations = set.Spec.Template.Metadata.Annotations;
        Assert.Equal("true", annotations["prometheus.io/scrape"]);
        Assert.Equal(healthPort.ToString(CultureInfo.InvariantCulture), annotations["prometheus.io/port"]);
        Assert.Equal(ServiceDefaultsExtensions.MetricsPath, annotations["prometheus.io/path"]);
    }

    private static void AssertServiceMatches(V1Service service, V1Container container)
    {
        foreach (var port in service.Spec.Ports)
        {
            Assert.Equal(port.Port, Port(container, port.TargetPort.Value));
        }
    }

    private static bool Covers(V1NetworkPolicyPort rule, int port)
    {
        var first = int.Parse(rule.Port.Value, CultureInfo.InvariantCulture);
        return port >= first && port <= (rule.EndPort ?? first);
    }
}
