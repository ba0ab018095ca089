using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Plateau.Coordinator.Hosting;
using Plateau.ServiceDefaults;
using Plateau.Worker.Grains;
using Plateau.Worker.Training;

namespace Plateau.Bench;

/// <summary>
/// The real coordinator host (src/Coordinator/Program.cs's calls) in this process on free loopback ports: the
/// gRPC JobService behind one bearer token, the Orleans silo (localhost clustering), durable state and checkpoints
/// in a temporary folder that goes on dispose. Model names are checked against the registry, as the CLI checks them.
/// This process also holds the worker assembly, whose WorkerGrain only activates beside its own devices: it is taken
/// out of the silo's grain classes, so the coordinator's pushes to ranks land on <see cref="SimulatedWorkerGrain"/>.
/// </summary>
internal sealed class InProcessCoordinator : IAsyncDisposable
{
    /// <summary>Random bytes of the bearer token (hex: twice as many characters, above the coordinator's minimum).</summary>
    private const int TokenBytes = 24;

    /// <summary>An open WatchJob stream holds Kestrel's graceful shutdown until this timeout (the service does not end
    /// streams when the host stops), so a stop never waits the default 30 s.</summary>
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(2);

    private readonly WebApplication _app;
    private readonly DirectoryInfo _root;

    private InProcessCoordinator(WebApplication app, DirectoryInfo root, Uri grpcAddress, string token, IReadOnlyDictionary<string, string?> cluster) =>
        (_app, _root, GrpcAddress, Token, ClientSettings) = (app, root, grpcAddress, token, cluster);

    /// <summary>The JobService, plain HTTP/2 on loopback.</summary>
    public Uri GrpcAddress { get; }

    /// <summary>The one token the JobService accepts.</summary>
    public string Token { get; }

    /// <summary>The <c>Plateau:Cluster</c> settings an Orleans client needs to reach this silo's gateway, and the log level.</summary>
    public IReadOnlyDictionary<string, string?> ClientSettings { get; }

    public static async Task<InProcessCoordinator> StartAsync(string name, CancellationToken cancellationToken)
    {
        static string Port() => Machine.FreePort().ToString(CultureInfo.InvariantCulture);
        var root = Directory.CreateTempSubdirectory($"plateau-bench-{name}-");
        var grpcPort = Machine.FreePort();
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(TokenBytes));
        var cluster = new Dictionary<string, string?>
        {
            ["Plateau:Cluster:SiloPort"] = Port(),
            ["Plateau:Cluster:GatewayPort"] = Port(),
            ["Plateau:Cluster:ClusterId"] = $"bench-{name}-{Guid.NewGuid():N}"[..24],
            // Over the output folder's appsettings.json (Information): a line per job and per call would bury the table.
            ["Logging:LogLevel:Default"] = "Warning",
        };
        var settings = new Dictionary<string, string?>(cluster)
        {
            ["Plateau:Coordinator:GrpcPort"] = grpcPort.ToString(CultureInfo.InvariantCulture),
            ["Plateau:Coordinator:HealthPort"] = "0",
            ["Plateau:Coordinator:StateDirectory"] = Path.Combine(root.FullName, "state"),
            ["Plateau:Checkpoints:RootDirectory"] = Path.Combine(root.FullName, "checkpoints"),
            ["Plateau:Api:Auth:Tokens:0"] = token,
        };

        try
        {
            var builder = WebApplication.CreateBuilder();
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
            builder.AddServiceDefaults().AddPlateauCoordinator(WorkerModels.Check);
            builder.Services.PostConfigure<GrainTypeOptions>(o => o.Classes.Remove(typeof(WorkerGrain)));
            var app = builder.Build();
            app.MapDefaultEndpoints();
            app.MapPlateauCoordinator();
            await app.StartAsync(cancellationToken);
            return new InProcessCoordinator(app, root, new Uri($"http://127.0.0.1:{grpcPort}"), token, cluster);
        }
        catch
        {
            root.Delete(recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        finally
        {
            _root.Delete(recursive: true);
        }
    }
}
