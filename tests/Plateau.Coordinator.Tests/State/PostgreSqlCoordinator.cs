using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Plateau.Cluster;
using Plateau.Coordinator.Configuration;
using Plateau.Coordinator.Checkpoints;
using Plateau.Coordinator.Hosting;

namespace Plateau.Coordinator.Tests.State;

/// <summary>
/// A coordinator silo in this process as the real host builds it (<c>UsePlateauCluster</c> with the AdoNet
/// provider, grain state in PostgreSQL), with the test assembly's fake WorkerGrains. The cluster's identity
/// stays the same across <see cref="StopAsync"/> and <see cref="StartAsync"/>: PostgreSQL rows are keyed by it.
/// </summary>
public sealed class PostgreSqlCoordinator(string connectionString, double workerLivenessTimeoutSeconds = 60) : IAsyncDisposable
{
    private IHost? _host;

    public string ClusterId { get; } = "pg-tests-" + Guid.NewGuid().ToString("N")[..8];

    public string Root { get; } = Directory.CreateTempSubdirectory("plateau-pg-coordinator-").FullName;

    public string CheckpointDirectory => Path.Combine(Root, "checkpoints");

    public IGrainFactory Grains => _host!.Services.GetRequiredService<IGrainFactory>();

    public async Task StartAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plateau:Cluster:Provider"] = "AdoNet",
            ["Plateau:Cluster:AdoNetConnectionString"] = connectionString,
            ["Plateau:Cluster:ClusterId"] = ClusterId,
            ["Plateau:Cluster:ServiceId"] = ClusterId,
            ["Plateau:Cluster:AdvertisedAddress"] = "127.0.0.1",
            ["Plateau:Cluster:SiloPort"] = PostgreSqlServer.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Plateau:Cluster:GatewayPort"] = "0",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<CoordinatorOptions>(o =>
        {
            o.RendezvousGraceSeconds = 0.3;
            o.KnownModels = ["resnet50", "se_resnet20_cifar"];
            o.WorkerCallTimeoutSeconds = 5;
            o.WorkerLivenessTimeoutSeconds = workerLivenessTimeoutSeconds;
        });
        builder.Services.Configure<CheckpointStoreOptions>(o => o.RootDirectory = CheckpointDirectory);
        builder.UseOrleans(silo => silo
            .UsePlateauCluster(builder.Configuration)
            .AddPlateauCoordinatorGrainsOnPostgreSql(connectionString));
        _host = builder.Build();
        await _host.StartAsync();
    }

    public async Task StopAsync()
    {
        if (_host is { } host)
        {
            _host = null;
            await host.StopAsync();
            host.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(Root, recursive: true);
    }
}
