using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plateau.Cluster;
using Plateau.Coordinator.Hosting;
using Plateau.Protos.V1;
using Plateau.ServiceDefaults;

namespace Plateau.Coordinator.Tests.Hosting;

/// <summary>The real host (Program's two calls) on free loopback ports, driven over HTTP/2.</summary>
public sealed class CoordinatorHostTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("plateau-host-").FullName;
    private readonly int _grpcPort = FreePort();
    private readonly int _healthPort = FreePort();
    private WebApplication _app = null!;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private readonly int _siloPort = FreePort();
    private readonly string _clusterId = "host-test-" + Guid.NewGuid().ToString("N")[..6];

    private Dictionary<string, string?> Settings() => new()
    {
        ["Plateau:Cluster:SiloPort"] = _siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Plateau:Cluster:GatewayPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Plateau:Cluster:ClusterId"] = _clusterId,
        ["Plateau:Coordinator:GrpcPort"] = _grpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Plateau:Coordinator:HealthPort"] = _healthPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Plateau:Coordinator:StateDirectory"] = Path.Combine(_root, "state"),
        ["Plateau:Coordinator:KnownModels:0"] = "se_resnet20_cifar",
        ["Plateau:Coordinator:KnownModels:1"] = "resnet50",
        ["Plateau:Checkpoints:RootDirectory"] = Path.Combine(_root, "checkpoints"),
        ["Plateau:Api:Auth:Tokens:0"] = Api.ApiHost.Token,
    };

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(Settings());
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

    [Fact]
    public async Task JobServiceAnswersOverHttp2WithStatusCodesNamingTheField()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_grpcPort}", new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, Api.ApiHost.Bearer(Api.ApiHost.Token)),
            UnsafeUseInsecureChannelCallCredentials = true,
        });
        var client = new JobService.JobServiceClient(channel);

        var unknownModel = await Assert.ThrowsAsync<RpcException>(async () => await client.SubmitJobAsync(new SubmitJobRequest
        {
            Spec = "model: { name: resnet7 }\ndataset: { kind: synthetic }\nepochs: 1\nbatch: { global: 8 }\n",
        }));
        var job = await client.SubmitJobAsync(new SubmitJobRequest
        {
            JobId = "host-test",
            Spec = "model: { name: resnet50 }\ndataset: { kind: synthetic }\nepochs: 1\nbatch: { global: 8 }\n",
        });
        var fetched = await client.GetJobAsync(new GetJobRequest { JobId = "host-test" });
        var missing = await Assert.ThrowsAsync<RpcException>(async () => await client.GetJobAsync(new GetJobRequest { JobId = "nope" }));

        Assert.Equal((StatusCode.InvalidArgument, "spec.model.name: unknown model 'resnet7'; known models: resnet50, se_resnet20_cifar"), (unknownModel.StatusCode, unknownModel.Status.Detail));
        Assert.Equal(Protos.V1.JobPhase.Rendezvous, job.Phase);
        Assert.Equal(job.PhaseReason, fetched.PhaseReason);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task WorkerSiloJoinsTheCoordinatorClusterThroughTheClusterSettings()
    {
        // What a worker host does: the same Plateau:Cluster section with its own ports and the coordinator as primary.
        using var workerHost = ClusterSilo.Build(_clusterId, FreePort(), _siloPort);
        await workerHost.StartAsync();
        try
        {
            var hosts = await ClusterSilo.ActiveSilos(_app.Services.GetRequiredService<IGrainFactory>(), 2, TimeSpan.FromSeconds(30));

            Assert.Equal(2, hosts.Count);
            Assert.Contains(hosts.Keys, silo => silo.Endpoint.Port == _siloPort);
        }
        finally
        {
            await workerHost.StopAsync();
        }
    }

    [Fact]
    public async Task HealthEndpointsAnswerOnTheirOwnPort()
    {
        using var http = new HttpClient();

        Assert.Equal("Healthy", await http.GetStringAsync(new Uri($"http://127.0.0.1:{_healthPort}/health")));
        Assert.Equal("Healthy", await http.GetStringAsync(new Uri($"http://127.0.0.1:{_healthPort}/alive")));
    }

    [Fact]
    public void BadSettingsAreRefusedNamingTheSetting()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plateau:Coordinator:GrpcPort"] = "0",
            ["Plateau:Coordinator:ListenAddress"] = "everywhere",
        });

        var error = Assert.Throws<OptionsValidationException>(() => builder.AddPlateauCoordinator());

        Assert.Equal(
            ["Plateau:Coordinator:GrpcPort must be between 1 and 65535, got 0", "Plateau:Coordinator:ListenAddress must be 'loopback' or 'any', got 'everywhere'"],
            error.Failures);
    }

    [Fact]
    public void BadClusterSettingsAreRefusedNamingTheSetting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plateau:Cluster:Provider"] = "AdoNet",
            ["Plateau:Cluster:PrimarySiloEndpoint"] = "coordinator:11111",
        }).Build();

        var error = Assert.Throws<OptionsValidationException>(() => configuration.ReadPlateauClusterOptions());

        Assert.Equal(
            [
                "Plateau:Cluster:PrimarySiloEndpoint must be host:port with an IP address (e.g. 127.0.0.1:11111), got 'coordinator:11111'",
                "Plateau:Cluster:AdoNetConnectionString is required when Plateau:Cluster:Provider is AdoNet",
            ],
            error.Failures);
    }
}
