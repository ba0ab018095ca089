using System.Text.Json.Nodes;
using k8s.Models;
using Plateau.Contracts.Specs;

namespace Plateau.Deploy.Tests;

/// <summary>
/// The dataset volume: workers mount the plateau-datasets claim read-only, and the example jobs name their datasets
/// under its mount path, so what a spec names is what a worker can open.
/// </summary>
public sealed class DatasetVolumeTests
{
    public const string Claim = "plateau-datasets";

    public static TheoryData<string> Overlays => [.. Overlay.Names];

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Workers_mount_the_dataset_claim_read_only(string name)
    {
        var overlay = Overlay.Render(name);
        var (mount, volume) = DatasetMount(overlay);

        Assert.True(mount.ReadOnlyProperty, $"{mount.MountPath} is writable in the worker");
        Assert.True(volume.PersistentVolumeClaim.ReadOnlyProperty, $"the {Claim} volume is not read-only");
        Assert.Equal("/data", mount.MountPath);
        overlay.One<V1PersistentVolumeClaim>(Claim);
    }

    [Fact]
    public void The_gpu_overlay_s_dataset_claim_may_be_mounted_by_every_worker_node_and_cpu_dev_s_by_one_node()
    {
        Assert.Equal(["ReadOnlyMany"], Overlay.Render("gpu").One<V1PersistentVolumeClaim>(Claim).Spec.AccessModes);
        Assert.Equal(["ReadWriteOnce"], Overlay.Render("cpu-dev").One<V1PersistentVolumeClaim>(Claim).Spec.AccessModes);
    }

    [Fact]
    public void The_coordinator_mounts_no_dataset_because_workers_report_the_sample_counts()
    {
        var overlay = Overlay.Render("gpu");

        Assert.DoesNotContain(overlay.Coordinator.Spec.Template.Spec.Volumes, v => v.PersistentVolumeClaim?.ClaimName == Claim);
    }

    [Fact]
    public void The_example_jobs_name_datasets_under_the_workers_dataset_mount()
    {
        var mountPath = DatasetMount(Overlay.Render("gpu")).Mount.MountPath;
        var paths = ExampleDatasetPaths().ToList();

        Assert.NotEmpty(paths);
        Assert.All(paths, p => Assert.True(p.Path is not null && Path.GetFullPath(p.Path).StartsWith(mountPath + "/", StringComparison.Ordinal),
            $"{p.Where}: dataset path {p.Path} is not under the workers' {mountPath}"));
    }

    private static (V1VolumeMount Mount, V1Volume Volume) DatasetMount(Overlay overlay)
    {
        var pod = overlay.Workers.Spec.Template.Spec;
        var volume = Assert.Single(pod.Volumes, v => v.PersistentVolumeClaim?.ClaimName == Claim);
        var mount = Assert.Single(ContainerSettings.Container(overlay.Workers, "worker").VolumeMounts, m => m.Name == volume.Name);
        return (mount, volume);
    }

    /// <summary>spec.dataset.path of every TrainingJob in examples/k8s, and dataset.path of every spec a ConfigMap there holds.</summary>
    private static IEnumerable<(string Where, string? Path)> ExampleDatasetPaths()
    {
        foreach (var file in Directory.GetFiles(Repository.PathOf("examples", "k8s"), "*.yaml"))
        {
            foreach (var document in YamlJson.Documents(File.ReadAllText(file)).OfType<JsonObject>())
            {
                var where = $"{Path.GetFileName(file)} {document["kind"]} {document["metadata"]?["name"]}";
                if ((string?)document["kind"] == "TrainingJob")
                {
                    yield return (where, (string?)document["spec"]?["dataset"]?["path"]);
                }
                else if ((string?)document["kind"] == "ConfigMap")
                {
                    foreach (var (key, value) in document["data"]?.AsObject() ?? [])
                    {
                        yield return ($"{where} {key}", JobSpecLoader.Parse((string)value!).Dataset.Path);
                    }
                }
            }
        }
    }
}
