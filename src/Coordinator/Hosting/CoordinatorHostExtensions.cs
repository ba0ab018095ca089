using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Plateau.Cluster;
using Plateau.Coordinator.Api;
using Plateau.Coordinator.Checkpoints;
using Plateau.Coordinator.Jobs;
using Plateau.Coordinator.Storage;

namespace Plateau.Coordinator.Hosting;

public static class CoordinatorHostExtensions
{
    /// <summary>
    /// The coordinator: an Orleans silo (cluster from <c>Plateau:Cluster</c>, durable file state from
    /// <c>Plateau:Coordinator:StateDirectory</c>), the checkpoint store (<c>Plateau:Checkpoints</c>) and the
    /// gRPC JobService on <c>Plateau:Coordinator:GrpcPort</c>. Settings are validated at start.
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

        builder.Services.AddOptions<CoordinatorOptions>().BindConfiguration(CoordinatorOptions.SectionName).ValidateOnStart();
        builder.Services.AddOptions<CheckpointStoreOptions>().BindConfiguration(CheckpointStoreOptions.SectionName).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CoordinatorOptions>, CoordinatorOptionsValidator>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CheckpointStoreOptions>, CheckpointStoreOptionsValidator>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<CheckpointStore>();
        builder.Services.AddGrpc(grpc => grpc.EnableDetailedErrors = false);

        builder.UseOrleans(silo => silo
            .UsePlateauCluster(configuration)
            .AddFileGrainStorage(JobGrain.StorageName, storage => storage.RootDirectory = coordinator.StateDirectory)
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

    /// <summary>Maps the gRPC JobService.</summary>
    public static WebApplication MapPlateauCoordinator(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGrpcService<JobService>();
        return app;
    }
}
