using Grpc.Core;
using Plateau.Collective.Transport;

namespace Plateau.Collective.Hosting;

/// <summary>
/// gRPC binding of plateau.collective.v1.CollectivePeer/Exchange with the zero-copy chunk marshaller
/// (the generated base class would force ByteString copies). Mapped by
/// <see cref="CollectiveHostingExtensions.MapPlateauCollective"/>.
/// </summary>
[BindServiceMethod(typeof(CollectivePeerService), nameof(BindService))]
internal class CollectivePeerService(CollectivePeerRegistry registry)
{
    public static void BindService(ServiceBinderBase binder, CollectivePeerService? service)
    {
        ArgumentNullException.ThrowIfNull(binder);
        binder.AddMethod(WireFrameMarshaller.ExchangeMethod, service is null ? null : service.Exchange);
    }

    // Virtual because grpc-dotnet binds only methods whose base definition is on the [BindServiceMethod] type.
    public virtual Task Exchange(IAsyncStreamReader<WireFrame> requestStream, IServerStreamWriter<WireFrame> responseStream, ServerCallContext context) =>
        registry.ExchangeAsync(requestStream, responseStream, context);
}
