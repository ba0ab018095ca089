using System.Globalization;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plateau.Coordinator.Hosting;
using Plateau.Coordinator.Storage.PostgreSql;
using Plateau.Protos.V1;
using Plateau.ServiceDefaults;

namespace Plateau.Coordinator.Tests.State;

/// <summary>The real coordinator host (Program's calls) with <c>Plateau:Cluster:Provider=AdoNet</c>.</summary>
[Collection(OnePostgreSqlServer.Name)]
public sealed class PostgreSqlHostTests(PostgreSqlServer server) : IDisposable
{
    private const string Token = "pg-host-test-token-0123456789";

    private readonly string _root = Directory.CreateTempSubdirectory("plateau-pg-host-").FullName;
    private readonly string _clusterId = "pg-host-" + Guid.NewGuid().ToString("N")[..6];
    private readonly int _grpcPort = PostgreSqlServer.FreePort();
    private readonly int _healthPort = PostgreSqlServer.FreePort();

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private WebApplication Build(string connectionString, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Plateau:Cluster:Provider"] = "AdoNet",
            ["Plateau:Cluster:AdoNetConnectionString"] = connectionString,
            ["Plateau:Cluster:ClusterId"] = _clusterId,
            ["Plateau:Cluster:ServiceId"] = _clusterId,
            ["Plateau:Cluster:AdvertisedAddress"] = "127.0.0.1",
            ["Plateau:Cluster:SiloPort"] = PostgreSqlServer.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Plateau:Cluster:GatewayPort"] = PostgreSqlServer.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Plateau:Coordinator:GrpcPort"] = _grpcPort.ToString(CultureInfo.InvariantCulture),
            ["Plateau:Coordinator:HealthPort"] = _healthPort.ToString(CultureInfo.InvariantCulture),
            ["Plateau:Coordinator:KnownModels:0"] = "resnet50",
            ["Plateau:Checkpoints:RootDirectory"] = Path.Combine(_root, "checkpoints"),
            ["Plateau:Api:Auth:Tokens:0"] = Token,
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddServiceDefaults().AddPlateauCoordinator();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapPlateauCoordinator();
        return app;
    }

    [Fact]
    public async Task AJobSubmittedOverGrpcIsThereAfterTheCoordinatorProcessRestarts()
    {
        var database = await server.CreateDatabaseAsync("host");
        var first = Build(database);
        await first.StartAsync();
        using var http = new HttpClient();
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_grpcPort}");
        var client = new JobService.JobServiceClient(channel.Intercept(metadata =>
        {
            metadata.Add("authorization", $"Bearer {Token}");
            return metadata;
        }));
        await client.SubmitJobAsync(new SubmitJobRequest
        {
            JobId = "survives-restart",
            Spec = "model: { name: resnet50 }\ndataset: { kind: synthetic }\nepochs: 1\nbatch: { global: 8 }\n",
        });
        var before = await client.GetJobAsync(new GetJobRequest { JobId = "survives-restart" });
        var healthy = await http.GetStringAsync(new Uri($"http://127.0.0.1:{_healthPort}/health"));
        await first.StopAsync();
        await first.DisposeAsync();

        var second = Build(database);
        await second.StartAsync();
        try
        {
            var after = await client.GetJobAsync(new GetJobRequest { JobId = "survives-restart" });
            var listed = await client.ListJobsAsync(new ListJobsRequest());

            Assert.Equal("Healthy", healthy);
            Assert.Equal((before.Phase, before.PhaseReason, before.CreatedAt), (after.Phase, after.PhaseReason, after.CreatedAt));
            Assert.Equal(["survives-restart"], listed.Jobs.Select(j => j.JobId));
        }
        finally
        {
            await second.StopAsync();
            await second.DisposeAsync();
        }
    }

    [Fact]
    public async Task ACoordinatorThatCannotReachPostgreSqlStopsNamingTheSettingWithoutThePassword()
    {
        var unreachable = $"Host=127.0.0.1;Port={PostgreSqlServer.FreePort()};Database=plateau;Username=plateau;Password=hunter2;Timeout=5";
        await using var app = Build(unreachable);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());

        var cause = Assert.IsType<PostgreSqlUnavailableException>(Innermost<PostgreSqlUnavailableException>(error));
        Assert.StartsWith("Plateau:Cluster:AdoNetConnectionString: cannot connect to PostgreSQL with 'Host=127.0.0.1;Port=", cause.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void AConnectionStringNpgsqlCannotParseIsRefusedBeforeStartWithoutThePassword()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Build("Hots=db;Password=hunter2"));

        var failure = Assert.Single(error.Failures);
        Assert.StartsWith("Plateau:Cluster:AdoNetConnectionString 'Hots=db;Password=***' is not a PostgreSQL connection string: ", failure, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void AStateDirectoryWithPostgreSqlStateIsRefusedRatherThanIgnored()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Build(server.ConnectionString("unused"), new() { ["Plateau:Coordinator:StateDirectory"] = "/var/lib/plateau/state" }));

        Assert.Equal(
            ["Plateau:Coordinator:StateDirectory is used only when Plateau:Cluster:Provider is Localhost; with AdoNet the coordinator's state is in PostgreSQL (Plateau:Cluster:AdoNetConnectionString): remove the setting"],
            error.Failures);
    }

    private static Exception? Innermost<T>(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is T)
            {
                return e;
            }

            if (e is AggregateException aggregate && aggregate.InnerExceptions.Select(Innermost<T>).FirstOrDefault(x => x is not null) is { } found)
            {
                return found;
            }
        }

        return null;
    }
}
