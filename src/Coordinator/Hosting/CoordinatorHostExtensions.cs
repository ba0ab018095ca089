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
using Plateau.Coordinator.Storage;

namespace Plateau.Coordinator.Hosting;

public static class CoordinatorHostExtensions
{
    /// <summary>
    /// The coordinator: an Orleans silo (cluster from <c>Plateau:Cluster</c>, durable file state from
    /// <c>Plateau:Coordinator:StateDirectory</c>), the checkpoint store (<c>Plateau:Checkpoints</c>) and the
    /// gRPC JobService on <c>Plateau:Coordinator:GrpcPort</c>. Settings are validated at start.
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

        builder.Services.AddOptions<CoordinatorOptions>().BindConfiguration(CoordinatorOptions.SectionName);
        builder.Services.AddOptions<CheckpointStoreOptions>().BindConfiguration(CheckpointStoreOptions.SectionName);
        builder.Services.AddOpenTelemetry().ConfigureResource(resource => resource
            .AddService("plateau-coordinator", serviceInstanceId: Environment.MachineName)
            .AddAttributes([new("host.name", Environment.MachineName)]));
        builder.Services.AddGrpc(grpc =>
        {
            grpc.EnableDetailedErrors = false;
            grpc.Interceptors.Add<ApiTelemetryInterceptor>();
        });
        builder.Services.AddHealthChecks().AddCheck<SiloActiveHealthCheck>(SiloActiveHealthCheck.Name);

        builder.UseOrleans(silo => silo
            .UsePlateauCluster(configuration)
            .AddPlateauCoordinatorGrains(coordinator.StateDirectory, models)
            .AddActivityPropagation());

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var address = coordinator.ListenAddress == "any" ? IPAddress.Any : IPAddress.Loopback;
            kestrel.Listen(address, coordinator.GrpcPort, listen => listen.Protocols = HttpProtocols.Http2);
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
    public static ISiloBuilder AddPlateauCoordinatorGrains(this ISiloBuilder silo, string stateDirectory, ModelCheck? models = null)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.Services.AddOptions<CoordinatorOptions>().ValidateOnStart();
        silo.Services.AddOptions<CheckpointStoreOptions>().ValidateOnStart();
        silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CoordinatorOptions>, CoordinatorOptionsValidator>());
        silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CheckpointStoreOptions>, CheckpointStoreOptionsValidator>());
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.TryAddSingleton<CheckpointStore>();
        silo.Services.TryAddSingleton(services => models ?? ConfiguredModels(services.GetRequiredService<IOptions<CoordinatorOptions>>().Value));
        return silo.AddFileGrainStorage(JobGrain.StorageName, storage => storage.RootDirectory = stateDirectory);
    }

    private static ModelCheck ConfiguredModels(CoordinatorOptions options) =>
        options.KnownModels.Count > 0 ? JobSpecValidator.KnownModels(options.KnownModels) : _ => [];

    /// <summary>Maps the gRPC JobService and CheckpointTransfer services.</summary>
    public static WebApplication MapPlateauCoordinator(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGrpcService<JobService>();
        app.MapGrpcService<CheckpointTransferService>();
        return app;
    }
}
