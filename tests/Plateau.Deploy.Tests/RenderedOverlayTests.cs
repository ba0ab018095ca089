using k8s.Models;

namespace Plateau.Deploy.Tests;

/// <summary>Every overlay renders and holds the objects a Plateau cluster needs, wired to each other.</summary>
public sealed class RenderedOverlayTests
{
    public static TheoryData<string> Overlays => [.. Overlay.Names];

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Overlay_renders_into_typed_Kubernetes_objects_with_no_unknown_fields(string name)
    {
        var overlay = Overlay.Render(name);

        Assert.NotEmpty(overlay.Objects);
        Assert.Single(overlay.All<V1Namespace>(), n => n.Metadata.Name == "plateau");
        Assert.Single(overlay.All<V1CustomResourceDefinition>(), c => c.Metadata.Name == "trainingjobs.plateau.dev");
        foreach (var kind in new[] { "plateau-coordinator", "plateau-worker", "plateau-postgres" })
        {
            overlay.One<V1StatefulSet>(kind);
            overlay.One<V1Service>(kind);
        }

        overlay.One<V1PodDisruptionBudget>("plateau-coordinator");
        Assert.Equal(3, overlay.All<V1NetworkPolicy>().Count());
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void The_Grafana_dashboards_ConfigMap_holds_every_dashboard_file_unchanged_and_is_labelled_for_the_sidecar(string name)
    {
        var map = Overlay.Render(name).One<V1ConfigMap>("plateau-grafana-dashboards");
        var files = Directory.GetFiles(Repository.PathOf("dashboards"), "*.json").ToDictionary(f => Path.GetFileName(f), File.ReadAllText);

        Assert.Equal(files.Keys.Order(StringComparer.Ordinal), map.Data.Keys.Order(StringComparer.Ordinal));
        Assert.All(files, file => Assert.Equal(file.Value, map.Data[file.Key]));
        Assert.Equal("1", map.Metadata.Labels["grafana_dashboard"]);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Every_namespaced_object_lands_in_the_plateau_namespace(string name)
    {
        var overlay = Overlay.Render(name);
        var namespaced = overlay.Objects.OfType<k8s.IKubernetesObject<V1ObjectMeta>>()
            .Where(o => o is not V1Namespace and not V1CustomResourceDefinition);

        Assert.Empty(namespaced.Where(o => o.Metadata.NamespaceProperty != "plateau").Select(o => $"{o.Kind} {o.Metadata.Name} in '{o.Metadata.NamespaceProperty}'"));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Every_referenced_ConfigMap_Secret_and_ServiceAccount_is_rendered_or_is_a_documented_operator_secret(string name)
    {
        var overlay = Overlay.Render(name);
        foreach (var set in overlay.All<V1StatefulSet>())
        {
            var pod = set.Spec.Template.Spec;
            if (pod.ServiceAccountName is { } account)
            {
                overlay.One<V1ServiceAccount>(account);
            }

            foreach (var container in pod.Containers)
            {
                foreach (var source in container.EnvFrom ?? [])
                {
                    overlay.ConfigMap(source.ConfigMapRef.Name);
                }

                foreach (var secretRef in (container.Env ?? []).Select(e => e.ValueFrom?.SecretKeyRef).OfType<V1SecretKeySelector>())
                {
                    // cpu-dev generates the database and API token Secrets; the gpu overlay leaves them to the operator (docs/kubernetes.md).
                    if (name == "cpu-dev")
                    {
                        var secret = overlay.One<V1Secret>(secretRef.Name);
                        Assert.True(secret.Data.ContainsKey(secretRef.Key), $"{set.Metadata.Name}: Secret {secretRef.Name} lacks key {secretRef.Key}");
                    }
                    else
                    {
                        Assert.True(secretRef.Name is "plateau-postgres" or "plateau-api-token", $"{set.Metadata.Name}: Secret {secretRef.Name} is neither generated nor documented");
                    }
                }
            }

            foreach (var volume in pod.Volumes ?? [])
            {
                if (volume.ConfigMap is { Optional: not true } map)
                {
                    overlay.ConfigMap(map.Name);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Services_PodDisruptionBudget_and_NetworkPolicies_select_the_pods_they_are_for(string name)
    {
        var overlay = Overlay.Render(name);
        var pods = overlay.All<V1StatefulSet>().ToDictionary(s => s.Metadata.Name, s => s.Spec.Template.Metadata.Labels);
        foreach (var set in overlay.All<V1StatefulSet>())
        {
            Assert.True(Selects(set.Spec.Selector.MatchLabels, set.Spec.Template.Metadata.Labels), $"{set.Metadata.Name}'s selector misses its own pods");
            var service = overlay.One<V1Service>(set.Spec.ServiceName);
            Assert.Equal([set.Metadata.Name], pods.Where(p => Selects(service.Spec.Selector, p.Value)).Select(p => p.Key));
        }

        var budget = overlay.One<V1PodDisruptionBudget>("plateau-coordinator");
        Assert.Equal(["plateau-coordinator"], pods.Where(p => Selects(budget.Spec.Selector.MatchLabels, p.Value)).Select(p => p.Key));
        foreach (var policy in overlay.All<V1NetworkPolicy>())
        {
            Assert.Equal([policy.Metadata.Name], pods.Where(p => Selects(policy.Spec.PodSelector.MatchLabels, p.Value)).Select(p => p.Key));
        }
    }

    [Fact]
    public void The_gpu_overlay_gives_each_worker_pod_one_GPU_per_device_and_the_CUDA_image()
    {
        var overlay = Overlay.Render("gpu");
        var worker = ContainerSettings.Container(overlay.Workers, "worker");
        var settings = ContainerSettings.Configuration(ContainerSettings.Environment(overlay, overlay.Workers, worker));
        var devices = int.Parse(settings["Plateau:Worker:Devices"]!, System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal("cuda", settings["Plateau:Worker:DeviceKind"]);
        Assert.Equal(devices.ToString(System.Globalization.CultureInfo.InvariantCulture), worker.Resources.Limits["nvidia.com/gpu"].ToString());
        Assert.Equal(worker.Resources.Limits["nvidia.com/gpu"].ToString(), worker.Resources.Requests["nvidia.com/gpu"].ToString());
        Assert.Equal("plateau:cuda", worker.Image);
        Assert.NotNull(overlay.Workers.Spec.Template.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution);
    }

    [Fact]
    public void The_cpu_dev_overlay_asks_for_no_GPU_and_runs_CPU_devices_on_the_CPU_image()
    {
        var overlay = Overlay.Render("cpu-dev");
        var worker = ContainerSettings.Container(overlay.Workers, "worker");
        var settings = ContainerSettings.Configuration(ContainerSettings.Environment(overlay, overlay.Workers, worker));

        Assert.Equal("cpu", settings["Plateau:Worker:DeviceKind"]);
        Assert.False(worker.Resources.Limits?.ContainsKey("nvidia.com/gpu") == true || worker.Resources.Requests?.ContainsKey("nvidia.com/gpu") == true);
        Assert.Equal("plateau:cpu", worker.Image);
        Assert.All(overlay.All<V1StatefulSet>().Where(s => s.Metadata.Name.StartsWith("plateau-c", StringComparison.Ordinal)),
            s => Assert.Equal("plateau:cpu", s.Spec.Template.Spec.Containers[0].Image));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Workers_have_a_memory_backed_dev_shm_with_a_size_limit_and_spread_over_nodes(string name)
    {
        var overlay = Overlay.Render(name);
        var pod = overlay.Workers.Spec.Template.Spec;
        var mount = Assert.Single(pod.Containers.Single().VolumeMounts, m => m.MountPath == "/dev/shm");
        var volume = Assert.Single(pod.Volumes, v => v.Name == mount.Name);

        Assert.Equal("Memory", volume.EmptyDir.Medium);
        Assert.NotNull(volume.EmptyDir.SizeLimit);
        Assert.True(volume.EmptyDir.SizeLimit.ToDecimal() >= 1L << 30, $"/dev/shm is {volume.EmptyDir.SizeLimit}");
        var spread = pod.Affinity.PodAntiAffinity;
        var terms = (spread.RequiredDuringSchedulingIgnoredDuringExecution ?? [])
            .Concat((spread.PreferredDuringSchedulingIgnoredDuringExecution ?? []).Select(p => p.PodAffinityTerm));
        Assert.Contains(terms, t => t.TopologyKey == "kubernetes.io/hostname" && Selects(t.LabelSelector.MatchLabels, overlay.Workers.Spec.Template.Metadata.Labels));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void The_TrainingJob_controller_may_watch_TrainingJobs_write_their_status_and_finalizers_as_the_coordinator(string name)
    {
        var overlay = Overlay.Render(name);
        var crd = overlay.One<V1CustomResourceDefinition>("trainingjobs.plateau.dev");
        var role = overlay.One<V1Role>("plateau-trainingjob-controller");
        var binding = overlay.One<V1RoleBinding>("plateau-trainingjob-controller");

        bool Grants(string resource, string verb) => role.Rules.Any(r => r.ApiGroups.Contains(crd.Spec.Group) && r.Resources.Contains(resource) && r.Verbs.Contains(verb));
        foreach (var verb in new[] { "get", "list", "watch", "patch" })
        {
            Assert.True(Grants(crd.Spec.Names.Plural, verb), $"the controller may not {verb} {crd.Spec.Names.Plural}");
        }

        Assert.True(Grants(crd.Spec.Names.Plural + "/status", "patch"));
        Assert.True(Grants(crd.Spec.Names.Plural + "/finalizers", "update"));
        Assert.Equal(role.Metadata.Name, binding.RoleRef.Name);
        Assert.Contains(binding.Subjects, s => s.Kind == "ServiceAccount" && s.Name == overlay.Coordinator.Spec.Template.Spec.ServiceAccountName);
    }

    internal static bool Selects(IDictionary<string, string>? selector, IDictionary<string, string>? labels) =>
        selector is { Count: > 0 } && labels is not null && selector.All(p => labels.TryGetValue(p.Key, out var value) && value == p.Value);
}
