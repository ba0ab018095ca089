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
using Plateau.Contracts.Specs;
using Plateau.Coordinator.Api;
using Plateau.Coordinator.Checkpoints;
using Plateau.Coordinator.Configuration;
using Plateau.Coordinator.Jobs;
using Plateau.Coordinator.Security;
using Plateau.Coordinator.Storage;
using Plateau.Coordinator.Storage.PostgreSql;
using Plateau.Coordinator.Storage.Reminders;

namespace Plateau.Coordinator.Hosting;

public static class CoordinatorHostExtensions
{
    /// <summary>
    /// The coordinator: an Orleans silo (cluster from <c>Plateau:Cluster</c>; durable state in files under
    /// <c>Plateau:Coordinator:StateDirectory</c> with the Localhost provider, in PostgreSQL with AdoNet), the
    /// checkpoint store (<c>Plateau:Checkpoints</c>) and the gRPC JobService on <c>Plateau:Coordinator:GrpcPort</c>
    /// (with grpc.health.v1 and server reflection), bearer-token authentication from <c>Plateau:Api:Auth</c>
    /// and TLS from <c>Plateau:Api:Tls</c>. Settings are validated at start.
    /// <paramref name="models"/> checks a spec's model name and options (a host that has the model registry
    /// passes it); without it the names in <c>Plateau:Coordinator:KnownModels</c> are checked, or any name is
    /// accepted when that list is empty. This is the only way a coordinator host is composed.
    /// </summary>
    public static WebApplicationBuilder AddPlateauCoordinator(this WebApplicationBuilder builder, ModelCheck? models = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        var coordinator = configuration.GetSection(CoordinatorOptions.SectionName).Get<CoordinatorOptions>() ?? new CoordinatorOptions();
        var problems = new CoordinatorOptionsValidator().Validate(null, coordinator);
        if (problems.Failed)
        {
            throw new OptionsValidationException(CoordinatorOptions.SectionName, typeof(CoordinatorOptions), problems.Failures);
        }

        // One setting chooses where the coordinator's durable state lives: Plateau:Cluster:Provider.
        var cluster = configuration.ReadPlateauClusterOptions();
        if (cluster.Provider == ClusteringProvider.AdoNet && configuration[$"{CoordinatorOptions.SectionName}:StateDirectory"] is not null)
        {
            throw new OptionsValidationException(CoordinatorOptions.SectionName, typeof(CoordinatorOptions),
            [
                $"{CoordinatorOptions.SectionName}:StateDirectory is used only when {PlateauClusterOptions.SectionName}:Provider is Localhost; " +
                $"with AdoNet the coordinator's state is in PostgreSQL ({PlateauClusterOptions.SectionName}:AdoNetConnectionString): remove the setting",
            ]);
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
            .AddPlateauCoordinatorState(cluster, coordinator.StateDirectory, models)
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

    private static ISiloBuilder AddPlateauCoordinatorState(this ISiloBuilder silo, PlateauClusterOptions cluster, string stateDirectory, ModelCheck? models) =>
        cluster.Provider == ClusteringProvider.AdoNet
            ? silo.AddPlateauCoordinatorGrainsOnPostgreSql(cluster.AdoNetConnectionString!, models)
            : silo.AddPlateauCoordinatorGrains(stateDirectory, models);

    /// <summary>
    /// What the coordinator's grains need on a silo: durable file state and reminders under <paramref name="stateDirectory"/>,
    /// the checkpoint storage and validated options (configure <see cref="CoordinatorOptions"/> and
    /// <see cref="CheckpointStoreOptions"/> before or after). Test clusters call this too.
    /// </summary>
    public static ISiloBuilder AddPlateauCoordinatorGrains(this ISiloBuilder silo, string stateDirectory, ModelCheck? models = null) =>
        silo.AddCoordinatorServices(models)
            .AddFileGrainStorage(JobGrain.StorageName, storage => storage.RootDirectory = stateDirectory)
            .AddFileReminderTable(stateDirectory);

    /// <summary>
    /// As <see cref="AddPlateauCoordinatorGrains"/> with the grain state in PostgreSQL: the Orleans schema
    /// is applied when the silo starts (docs/state.md). Reminders use the ADO.NET reminder table in the same
    /// database (<c>UsePlateauCluster</c> gives every AdoNet silo the same; registered here too for test silos).
    /// </summary>
    public static ISiloBuilder AddPlateauCoordinatorGrainsOnPostgreSql(this ISiloBuilder silo, string connectionString, ModelCheck? models = null) =>
        silo.AddCoordinatorServices(models)
            .AddPostgreSqlGrainState(JobGrain.StorageName, connectionString)
            .AddPostgreSqlReminderTable(connectionString);

    private static ISiloBuilder AddCoordinatorServices(this ISiloBuilder silo, ModelCheck? models)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.Services.AddOptions<CoordinatorOptions>().ValidateOnStart();
        silo.Services.AddOptions<CheckpointStoreOptions>().ValidateOnStart();
        silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CoordinatorOptions>, CoordinatorOptionsValidator>());
        silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CheckpointStoreOptions>, CheckpointStoreOptionsValidator>());
        silo.Services.TryAddSingleton(TimeProvider.System);
        // The one checkpoint storage there is; it is also the shared directory CheckpointRegistry asks for.
        silo.Services.TryAddSingleton<ICheckpointStorage, DirectoryCheckpointStorage>();
        silo.Services.TryAddSingleton(services => models ?? ConfiguredModels(services.GetRequiredService<IOptions<CoordinatorOptions>>().Value));
        silo.AddStartupTask<UnfinishedJobsWakeup>();
        return silo;
    }

    private static ModelCheck ConfiguredModels(CoordinatorOptions options) =>
        options.KnownModels.Count > 0 ? JobSpecValidator.KnownModels(options.KnownModels) : _ => [];

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
