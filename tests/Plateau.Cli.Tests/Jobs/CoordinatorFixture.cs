using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Plateau.Coordinator.Hosting;
using Plateau.ServiceDefaults;

namespace Plateau.Cli.Tests.Jobs;

/// <summary>
/// The real coordinator host (Program.cs's calls) on free loopback ports, shared by a test class; the CLI
/// talks to it over HTTP/2 like it would to a deployed one. Only se_resnet20_cifar is accepted as a model,
/// so a spec that is valid locally can still be refused by the coordinator.
/// </summary>
public sealed class CoordinatorFixture : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("plateau-cli-").FullName;
    private WebApplication _app = null!;

    public int GrpcPort { get; } = CliRunner.FreePort();

    public string Address => $"http://127.0.0.1:{GrpcPort}";

    public string SpecDirectory => _root;

    public async Task InitializeAsync()
    {
        static string Port() => CliRunner.FreePort().ToString(CultureInfo.InvariantCulture);
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plateau:Cluster:SiloPort"] = Port(),
            ["Plateau:Cluster:GatewayPort"] = Port(),
            ["Plateau:Cluster:ClusterId"] = "cli-test-" + Guid.NewGuid().ToString("N")[..6],
            ["Plateau:Coordinator:GrpcPort"] = GrpcPort.ToString(CultureInfo.InvariantCulture),
            ["Plateau:Coordinator:HealthPort"] = "0",
            ["Plateau:Coordinator:StateDirectory"] = Path.Combine(_root, "state"),
            ["Plateau:Coordinator:WatchPollMilliseconds"] = "100",
            ["Plateau:Coordinator:KnownModels:0"] = "se_resnet20_cifar",
            ["Plateau:Checkpoints:RootDirectory"] = Path.Combine(_root, "checkpoints"),
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddServiceDefaults().AddPlateauCoordinator();
        _app = builder.Build();
        _app.MapDefaultEndpoints();
        _app.MapPlateauCoordinator();
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }
}
