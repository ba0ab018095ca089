using k8s;
using k8s.Models;
using Plateau.Cli.Commands.Jobs;
using Plateau.Contracts.Specs;
using Plateau.Worker.Training;

namespace Plateau.Deploy.Tests;

/// <summary>examples/k8s/submit-job-cli.yaml, the submission for clusters without the CRD: its spec is valid,
/// and its Job reaches the coordinator's Service with the token the coordinator accepts.</summary>
public sealed class CliSubmitJobExampleTests
{
    private readonly IList<object> _objects = KubernetesYaml.LoadAllFromString(Repository.Read("examples", "k8s", "submit-job-cli.yaml"), strict: true);

    [Fact]
    public void The_embedded_spec_is_valid_against_the_real_model_registry()
    {
        var spec = JobSpecLoader.Parse(_objects.OfType<V1ConfigMap>().Single().Data["job.yaml"]);

        Assert.Empty(JobSpecValidator.Validate(spec, WorkerModels.Check));
    }

    [Fact]
    public void The_Job_calls_the_coordinator_Service_with_the_token_the_coordinator_accepts()
    {
        var overlay = Overlay.Render("cpu-dev");
        var job = _objects.OfType<V1Job>().Single();
        var container = job.Spec.Template.Spec.Containers.Single();
        var env = container.Env.ToDictionary(e => e.Name);

        var address = new Uri(env[JobCommandOptions.AddressVariable].Value);
        var service = overlay.One<V1Service>(address.Host);
        Assert.Contains(service.Spec.Ports, p => p.Port == address.Port && p.Name == "grpc");
        var token = env[JobCommandOptions.TokenVariable].ValueFrom.SecretKeyRef;
        var coordinatorToken = ContainerSettings.Container(overlay.Coordinator, "coordinator").Env
            .Single(e => e.Name == "PLATEAU_Plateau__Api__Auth__Tokens__0").ValueFrom.SecretKeyRef;
        Assert.Equal((coordinatorToken.Name, coordinatorToken.Key), (token.Name, token.Key));
        Assert.Contains(token.Key, overlay.One<V1Secret>(token.Name).Data.Keys);

        // The spec file the CLI is given is the ConfigMap's key, mounted where the argument points.
        var specPath = container.Args[2];
        var mount = container.VolumeMounts.Single(m => specPath.StartsWith(m.MountPath + "/", StringComparison.Ordinal));
        var volume = job.Spec.Template.Spec.Volumes.Single(v => v.Name == mount.Name);
        Assert.Equal(["job", "submit"], container.Args.Take(2));
        Assert.Equal(_objects.OfType<V1ConfigMap>().Single().Metadata.Name, volume.ConfigMap.Name);
        Assert.Contains(Path.GetFileName(specPath), _objects.OfType<V1ConfigMap>().Single().Data.Keys);
    }
}
