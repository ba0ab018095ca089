using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Plateau.Coordinator.Checkpoints;
using Plateau.Coordinator.Configuration;
using Plateau.Coordinator.Hosting;

namespace Plateau.Coordinator.Tests.Jobs;

/// <summary>An in-process silo with the coordinator's grains, file storage in a temporary folder and
/// fake WorkerGrains that record what the JobGrain tells them.</summary>
public sealed class CoordinatorCluster : IAsyncLifetime
{
    public string Root { get; } = Directory.CreateTempSubdirectory("plateau-coordinator-").FullName;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

    public string StateDirectory => Path.Combine(Root, "state");

    public string CheckpointDirectory => Path.Combine(Root, "checkpoints");

    public Task InitializeAsync() => StartAsync();

    public async Task StartAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.Configure<CoordinatorOptions>(o =>
            {
                o.RendezvousGraceSeconds = 0.3;
                o.KnownModels = ["resnet50", "se_resnet20_cifar"];
                o.WorkerLivenessTimeoutSeconds = 60;
                o.WorkerCallTimeoutSeconds = 5;
                o.WatchPollMilliseconds = 50;
            });
            silo.Services.Configure<CheckpointStoreOptions>(o => o.RootDirectory = CheckpointDirectory);
            silo.AddPlateauCoordinatorGrains(StateDirectory);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task StopAsync() => await Cluster.DisposeAsync();

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }
}
