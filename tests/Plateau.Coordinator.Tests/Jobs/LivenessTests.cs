using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Training;
using Plateau.Coordinator.Checkpoints;
using Plateau.Coordinator.Configuration;
using Plateau.Coordinator.Hosting;
using static Plateau.Coordinator.Tests.Jobs.JobTestKit;

namespace Plateau.Coordinator.Tests.Jobs;

/// <summary>A rank that goes silent is declared failed within the liveness timeout (invariant 6).</summary>
public sealed class LivenessTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("plateau-liveness-").FullName;
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.Configure<CoordinatorOptions>(o => (o.RendezvousGraceSeconds, o.WorkerLivenessTimeoutSeconds) = (0, 3));
            silo.Services.Configure<CheckpointStoreOptions>(o => o.RootDirectory = Path.Combine(_root, "checkpoints"));
            silo.AddPlateauCoordinatorGrains(Path.Combine(_root, "state"));
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task SilentRankIsDeclaredFailedNamingItsHost()
    {
        var id = NewJobId("silent");
        var job = _cluster.Client.GetGrain<IJobGrain>(id);
        await job.Submit(Spec());
        await job.RegisterWorker(Worker($"{id}-a"));
        await job.RegisterWorker(Worker($"{id}-b"));

        // Rank 0 keeps reporting; rank 1 never does.
        var summary = await Eventually(async () =>
        {
            var current = (await job.GetSummary())!;
            try
            {
                await job.ReportProgress(new ProgressReport { Generation = 1, Rank = 0, GlobalStep = 1 });
            }
            catch (StaleGenerationException)
            {
                // The liveness check dissolved generation 1 between the two calls.
            }

            return current;
        }, s => s.Phase == JobPhase.Rendezvous && s.Generation == 2, "liveness failure", seconds: 15);

        Assert.StartsWith($"rank 1 ({id}-b on host-{id}-b, http://127.0.0.1:", summary.PhaseReason, StringComparison.Ordinal);
        Assert.Contains(") failed: no progress for ", summary.PhaseReason, StringComparison.Ordinal);
    }
}
