using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Resources;
using Plateau.Cluster;
using Plateau.Coordinator.Api;
using Plateau.Coordinator.Checkpoints;
using Plateau.Coordinator.Jobs;
using Plateau.Coordinator.Security;
using Plateau.Coordinator.Storage;

namespace Plateau.Coordinator.Hosting;

public static class CoordinatorHostExtensions
{
    /// <summary>
    /// The coordinator: an Orleans silo (cluster from <c>Plateau:Cluster</c>, durable file state from
    /// <c>Plateau:Coordinator:StateDirectory</c>), the checkpoint store (<c>Plateau:Checkpoints</c>) and the
    /// gRPC JobService on <c>Plateau:Coordinator:GrpcPort</c> (with grpc.health.v1 and server reflection),
    /// bearer-token authentication from <c>Plateau:Api:Auth</c> and TLS from <c>Plateau:Api:Tls</c>.
    /// Settings are validated at start.
    /// </summary>
    public static WebApplicationBuilder AddPlateauCoordinator(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        var coordinator = configuration.GetSection(CoordinatorOptions.SectionName).Get<CoordinatorOptions>() ?? new CoordinatorOptions();
        var problems = new CoordinatorOptionsValidator().Validate(null, coordinator);
        if (problems.Failed)
        {
            throw new OptionsValidationException(CoordinatorOptions.SectionName, typeof(CoordinatorOptions), problems.Failures);
        }

        builder.Services.AddOptions<CoordinatorOptions>().BindConfiguration(CoordinatorOptions.SectionName);
        builder.Services.AddOptions<CheckpointStoreOptions>().BindConfiguration(CheckpointStoreOptions.SectionName);
        builder.Services.AddOpenTelemetry().ConfigureResource(resource => resource
            .AddService("plateau-coordinator", serviceInstanceId: Environment.MachineName)
            .AddAttributes([new("host.name", Environment.MachineName)]));
        var (_, tls) = builder.Services.AddPlateauApiSecurity(configuration);
        builder.Services.AddGrpc(grpc =>
        {
            grpc.EnableDetailedErrors = false;
            // Outermost first: telemetry records the status the error interceptor chose.
            grpc.Interceptors.Add<ApiTelemetryInterceptor>();
            grpc.Interceptors.Add<ApiErrorInterceptor>();
        }).AddServiceOptions<JobService>(o => o.MaxReceiveMessageSize = JobService.MaxRequestBytes);
        builder.Services.AddGrpcHealthChecks();
        builder.Services.AddGrpcReflection();
        builder.Services.AddHealthChecks().AddCheck<SiloActiveHealthCheck>(SiloActiveHealthCheck.Name);

        builder.UseOrleans(silo => silo
            .UsePlateauCluster(configuration)
            .AddPlateauCoordinatorGrains(coordinator.StateDirectory)
            .AddActivityPropagation());

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var address = coordinator.ListenAddress == "any" ? IPAddress.Any : IPAddress.Loopback;
            var certificate = tls.IsConfigured ? ApiSecurityExtensions.LoadCertificate(tls) : null;
            kestrel.Listen(address, coordinator.GrpcPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
            if (coordinator.HealthPort != 0)
            {
                kestrel.Listen(address, coordinator.HealthPort, listen => listen.Protocols = HttpProtocols.Http1);
            }
        });
        return builder;
    }

    /// <summary>
    /// What the coordinator's grains need on a silo: durable file state under <paramref name="stateDirectory"/>,
    /// the checkpoint store and validated options (configure <see cref="CoordinatorOptions"/> and
    /// <see cref="CheckpointStoreOptions"/> before or after). Test clusters call this too.
    /// </summary>
    public static ISiloBuilder AddPlateauCoordinatorGrains(this ISiloBuilder silo, string stateDirectory)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.Services.AddOptions<CoordinatorOptions>().ValidateOnStart();
        silo.Services.AddOptions<CheckpointStoreOptions>().ValidateOnStart();
        silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CoordinatorOptions>, CoordinatorOptionsValidator>());
        silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CheckpointStoreOptions>, CheckpointStoreOptionsValidator>());
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.TryAddSingleton<CheckpointStore>();
        return silo.AddFileGrainStorage(JobGrain.StorageName, storage => storage.RootDirectory = stateDirectory);
    }

    /// <summary>
    /// Maps the gRPC services. JobService needs an authenticated caller (when Auth is on); grpc.health.v1 and
    /// reflection stay open for probes and tools (they show health and the schema, never a job);
    /// CheckpointTransfer authenticates each call with its own per-checkpoint HMAC token (docs/security.md).
    /// </summary>
    public static WebApplication MapPlateauCoordinator(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseAuthentication();
        app.UseAuthorization();
        var jobs = app.MapGrpcService<JobService>();
        if (app.Services.GetRequiredService<IOptions<ApiAuthOptions>>().Value.Enabled)
        {
            jobs.RequireAuthorization(ApiSecurityExtensions.ApiPolicy);
        }

        app.MapGrpcService<CheckpointTransferService>();
        app.MapGrpcHealthChecksService().AllowAnonymous();
        app.MapGrpcReflectionService().AllowAnonymous();
        return app;
    }
}
