using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Plateau.Coordinator.Hosting;
using Plateau.Protos.V1;

namespace Plateau.Coordinator.Tests.Api;

/// <summary>Who may call what on the API port: bearer tokens and JWTs on JobService; health and reflection open.</summary>
public sealed class ApiSecurityTests(ApiHost host) : IClassFixture<ApiHost>
{
    private const string Spec = "model: { name: resnet50 }\ndataset: { kind: synthetic }\nepochs: 1\nbatch: { global: 8 }\nworkers: { min: 2, max: 2, rendezvousTimeoutSeconds: 600 }\n";

    private static async Task<RpcException> Fails(Func<Task> call) => await Assert.ThrowsAsync<RpcException>(call);

    [Fact]
    public async Task ASubmitWithAWrongTokenIsUnauthenticatedAndCreatesNothing()
    {
        var jobId = "wrong-token-" + Guid.NewGuid().ToString("N")[..6];

        var wrong = await Fails(() => host.Client("not-the-token-0123456789").SubmitJobAsync(new SubmitJobRequest { JobId = jobId, Spec = Spec }).ResponseAsync);
        var none = await Fails(() => host.Client(token: null).SubmitJobAsync(new SubmitJobRequest { JobId = jobId, Spec = Spec }).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);
        var listed = await host.Client().ListJobsAsync(new ListJobsRequest { Limit = 500 });
        Assert.DoesNotContain(listed.Jobs, j => j.JobId == jobId);
        Assert.Equal(StatusCode.NotFound, (await Fails(() => host.Client().GetJobAsync(new GetJobRequest { JobId = jobId }).ResponseAsync)).StatusCode);
    }

    [Fact]
    public async Task EveryJobServiceCallNeedsAToken()
    {
        var client = host.Client(token: null);
        Func<Task>[] calls =
        [
            () => client.GetJobAsync(new GetJobRequest { JobId = "x" }).ResponseAsync,
            () => client.ListJobsAsync(new ListJobsRequest()).ResponseAsync,
            () => client.CancelJobAsync(new CancelJobRequest { JobId = "x" }).ResponseAsync,
            () => client.PauseJobAsync(new PauseJobRequest { JobId = "x" }).ResponseAsync,
            () => client.ResumeJobAsync(new ResumeJobRequest { JobId = "x" }).ResponseAsync,
            async () =>
            {
                using var watch = client.WatchJob(new WatchJobRequest { JobId = "x" });
                await watch.ResponseStream.MoveNext();
            },
            () => client.SubmitJobAsync(new SubmitJobRequest { JobId = "x", Spec = Spec }).ResponseAsync,
            async () =>
            {
                using var export = client.ExportWeights(new ExportWeightsRequest { JobId = "x" });
                await export.ResponseStream.MoveNext();
            },
            () => client.UpdateScheduleAsync(new UpdateScheduleRequest { JobId = "x", Operator = "mallory", Reason = "r", DropNow = true }).ResponseAsync,
            () => client.ListCheckpointsAsync(new ListCheckpointsRequest { JobId = "x" }).ResponseAsync,
            () => client.GetMetricsAsync(new GetMetricsRequest { JobId = "x" }).ResponseAsync,
        ];

        // A new RPC must be added here too.
        Assert.Equal(Protos.V1.JobService.Descriptor.Methods.Count, calls.Length);
        foreach (var call in calls)
        {
            Assert.Equal(StatusCode.Unauthenticated, (await Fails(call)).StatusCode);
        }
    }

    [Fact]
    public async Task AJwtFromTheConfiguredIssuerIsAccepted()
    {
        var client = host.Client(ApiHost.Jwt("alice"));

        var job = await client.SubmitJobAsync(new SubmitJobRequest { JobId = "jwt-" + Guid.NewGuid().ToString("N")[..6], Spec = Spec });

        Assert.Equal(Protos.V1.JobPhase.Rendezvous, job.Phase);
    }

    public static TheoryData<string, string> BadJwts() => new()
    {
        { "signed with another key", ApiHost.Jwt("mallory", key: [.. Enumerable.Repeat((byte)9, 32)]) },
        { "from another issuer", ApiHost.Jwt("mallory", issuer: "https://elsewhere.test") },
        { "for another audience", ApiHost.Jwt("mallory", audience: "someone-else") },
        { "expired an hour ago", ApiHost.Jwt("mallory", lifetime: TimeSpan.FromHours(-1)) },
        { "with its signature cut off", string.Join('.', ApiHost.Jwt("mallory").Split('.')[..2]) + "." },
    };

    [Theory]
    [MemberData(nameof(BadJwts))]
    public async Task AJwtThatDoesNotValidateIsUnauthenticated(string what, string jwt)
    {
        var error = await Fails(() => host.Client(jwt).ListJobsAsync(new ListJobsRequest()).ResponseAsync);

        Assert.True(error.StatusCode == StatusCode.Unauthenticated, $"{what}: {error.StatusCode}");
    }

    [Fact]
    public async Task HealthAnswersWithoutAToken()
    {
        using var channel = host.Channel(token: null);
        var health = new Health.HealthClient(channel);

        var overall = await health.CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, overall.Status);
    }

    [Fact]
    public async Task ReflectionListsTheServicesWithoutAToken()
    {
        using var channel = host.Channel(token: null);
        var reflection = new ServerReflection.ServerReflectionClient(channel);

        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext());
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();

        Assert.Contains("plateau.v1.JobService", services);
        Assert.Contains("plateau.v1.CheckpointTransfer", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }

    [Fact]
    public void AuthenticationOnWithNothingToAuthenticateWithIsRefusedNamingTheSettings()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plateau:Api:Auth:Tokens:0"] = "short",
            ["Plateau:Api:Auth:Jwt:SigningKey"] = Convert.ToBase64String(new byte[8]),
        });

        var error = Assert.Throws<OptionsValidationException>(() => builder.AddPlateauCoordinator());

        Assert.Equal(
            [
                "Plateau:Api:Auth:Tokens:0 must be at least 16 characters, got 5",
                "Plateau:Api:Auth:Jwt:SigningKey must be base64 of at least 32 bytes, got 8 bytes",
                "Plateau:Api:Auth:Jwt:Issuer is required when Jwt:SigningKey is set",
                "Plateau:Api:Auth:Jwt:Audience is required when Jwt:SigningKey is set",
            ],
            error.Failures);
        var empty = WebApplication.CreateBuilder();
        Assert.StartsWith("Plateau:Api:Auth needs Tokens or Jwt:SigningKey", Assert.Single(Assert.Throws<OptionsValidationException>(() => empty.AddPlateauCoordinator()).Failures), StringComparison.Ordinal);
    }
}
