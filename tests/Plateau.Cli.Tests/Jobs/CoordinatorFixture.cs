using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Plateau.Coordinator.Hosting;
using Plateau.ServiceDefaults;

namespace Plateau.Cli.Tests.Jobs;

/// <summary>
/// The real coordinator host (Program.cs's calls) on free loopback ports, shared by a test class; the CLI
/// talks to it over HTTP/2 like it would to a deployed one. Only se_resnet20_cifar is accepted as a model,
/// so a spec that is valid locally can still be refused by the coordinator. Calls need
/// <see cref="Token"/>.
/// </summary>
public sealed class CoordinatorFixture : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("plateau-cli-").FullName;
    private readonly Dictionary<string, string?> _settings;
    private WebApplication? _app;

    public CoordinatorFixture() : this(new Dictionary<string, string?>()) { }

    private CoordinatorFixture(IReadOnlyDictionary<string, string?> extra)
    {
        static string Port() => CliRunner.FreePort().ToString(CultureInfo.InvariantCulture);
        _settings = new Dictionary<string, string?>
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
            ["Plateau:Api:Auth:Tokens:0"] = Token,
        };
        foreach (var (key, value) in extra)
        {
            _settings[key] = value;
        }
    }

    /// <summary>The one token this coordinator accepts.</summary>
    public const string Token = "cli-test-token-0123456789";

    public int GrpcPort { get; } = CliRunner.FreePort();

    /// <summary>A coordinator (not started) with <paramref name="extra"/> settings on top of, or replacing, the defaults.</summary>
    public static CoordinatorFixture With(IReadOnlyDictionary<string, string?> extra) => new(extra);

    public string Address => $"http://127.0.0.1:{GrpcPort}";

    public string SpecDirectory => _root;

    public Task InitializeAsync() => StartAsync();

    /// <summary>Starts the host; after <see cref="StopAsync"/> it starts again on the same ports and state (a restart).</summary>
    public async Task StartAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(_settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // An open WatchJob stream holds Kestrel's graceful shutdown until this timeout (the service does
        // not end streams on ApplicationStopping), so a restart in the tests would otherwise take 30 s.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.AddServiceDefaults().AddPlateauCoordinator();
        _app = builder.Build();
        _app.MapDefaultEndpoints();
        _app.MapPlateauCoordinator();
        await _app.StartAsync();
    }

    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(_root, recursive: true);
    }
}
