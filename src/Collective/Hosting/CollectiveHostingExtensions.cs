using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Plateau.Collective.Hosting;

/// <summary>
/// Hosts the collective peer service inside an existing ASP.NET Core gRPC server (e.g. beside a
/// worker's own endpoints) instead of a standalone <see cref="CollectiveServer"/>. The host must serve
/// HTTP/2 and should apply the Kestrel limits described in docs/collective.md.
/// </summary>
public static class CollectiveHostingExtensions
{
    /// <summary>Registers gRPC and a <see cref="CollectivePeerRegistry"/> singleton built from <paramref name="options"/>.</summary>
    public static IServiceCollection AddPlateauCollective(this IServiceCollection services, CollectiveServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxMessageBytes;
            grpc.MaxSendMessageSize = options.MaxMessageBytes;
            grpc.EnableDetailedErrors = false;
        });
        services.TryAddSingleton(options);
        services.TryAddSingleton<CollectivePeerRegistry>();
        return services;
    }

    /// <summary>Maps plateau.collective.v1.CollectivePeer.</summary>
    public static GrpcServiceEndpointConventionBuilder MapPlateauCollective(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGrpcService<CollectivePeerService>();
}
